using KhoEmu.Core;

namespace KhoEmu.Devices.Timers;

/// <summary>
/// The HPET at 0xFED00000 as QEMU's hw/timer/hpet.c models it (IA-PC HPET specification 1.0a): capabilities
/// 0x8086A201 with a 10 ns period (100 MHz, vendor 8086, 3 timers, 64-bit counter, legacy-route capable), general
/// configuration (enable, legacy replacement: timer 0 → IRQ 0 / I/O APIC pin 2, timer 1 → IRQ 8), interrupt
/// status (level-triggered bits, write 1 to clear), the main counter (writable while halted) and three timers
/// routable to I/O APIC inputs 2, 8 and 16-23 (QEMU's q35 intcap 0xff0104). No FSB (MSI) delivery, as QEMU's default.
/// </summary>
public sealed partial class Hpet : IMmioDevice
{
    public const int TimerCount = 3;
    public const ulong PeriodFs = 10_000_000, TickNs = 10;
    public const uint InterruptRouteCapability = 0x00FF_0104;
    /// <summary>General capabilities (2.3.4): rev 1, NUM_TIM_CAP 2, COUNT_SIZE_CAP, LEG_RT_CAP, vendor 0x8086, period.</summary>
    public const ulong Capabilities = 0x8086_A001UL | (TimerCount - 1) << 8 | PeriodFs << 32;
    public const ulong ConfigEnable = 1, ConfigLegacy = 2;

    // Register offsets (2.3.1 "Register Overview").
    private const ulong RegCapabilities = 0x000, RegConfig = 0x010, RegStatus = 0x020, RegCounter = 0x0F0, RegTimers = 0x100;

    private readonly VirtualClock _clock;
    private readonly IIrqLine _irq0, _irq8;
    private readonly Action<int, bool> _ioApicPin;
    private readonly HpetTimer[] _timers = new HpetTimer[TimerCount];
    private ulong _config, _status, _counterBase;
    private ulong _enabledAt;

    /// <param name="irq0">ISA IRQ 0 (8259 input 0 and I/O APIC pin 2).</param>
    /// <param name="irq8">ISA IRQ 8.</param>
    /// <param name="ioApicPin">Drives an I/O APIC input (the non-legacy routes).</param>
    /// <param name="name">Prefix of the comparators' clock timers (<c>hpet.timer0</c> ...).</param>
    public Hpet(VirtualClock clock, IIrqLine irq0, IIrqLine irq8, Action<int, bool> ioApicPin, string name = "hpet")
    {
        _clock = clock;
        _irq0 = irq0;
        _irq8 = irq8;
        _ioApicPin = ioApicPin;
        for (int i = 0; i < TimerCount; i++) _timers[i] = new HpetTimer(this, i, clock, $"{name}.timer{i}");
        PitOutput = new HpetLegacyGate(irq0);
        RtcOutput = new HpetLegacyGate(irq8);
    }

    /// <summary>Where the 8254's OUT0 must be connected: cut off while the legacy route is on.</summary>
    public HpetLegacyGate PitOutput { get; }
    /// <summary>Where the RTC's IRQ output must be connected: cut off while the legacy route is on.</summary>
    public HpetLegacyGate RtcOutput { get; }

    public HpetTimer Timer(int index) => _timers[index];

    public bool Enabled => (_config & ConfigEnable) != 0;
    internal bool LegacyRoute => (_config & ConfigLegacy) != 0;

    /// <summary>The main counter: 100 MHz ticks of virtual time while enabled.</summary>
    public ulong Counter => Enabled ? _counterBase + (_clock.Now - _enabledAt) / TickNs : _counterBase;

    /// <summary>Arms <paramref name="timer"/> for when the counter reaches <paramref name="count"/>; not for a count
    /// centuries away (a 64-bit comparator far ahead), which would otherwise overflow the nanosecond clock.</summary>
    internal void ArmAtCount(ClockTimer timer, ulong count)
    {
        UInt128 when = (UInt128)_enabledAt + (UInt128)(count - _counterBase) * TickNs;
        if (when > long.MaxValue) return;
        timer.Arm(Math.Max((ulong)when, _clock.Now + 1));
    }

    internal bool IsStatusSet(int timer) => (_status & (1UL << timer)) != 0;
    internal void SetStatus(int timer) => _status |= 1UL << timer;
    internal void ClearStatus(int timer) => _status &= ~(1UL << timer);

    /// <summary>Route -1 / -2 are the legacy IRQ 0 / IRQ 8; others are I/O APIC inputs.</summary>
    internal void DriveLine(int route, bool level)
    {
        if (route == -1) _irq0.Set(level);
        else if (route == -2) _irq8.Set(level);
        else _ioApicPin(route, level);
    }

    public ulong ReadMmio(ulong offset, int size)
    {
        ulong value = ReadRegister(offset & ~7UL);
        int shift = (int)(offset & 7) * 8;
        value >>= shift;
        return size >= 8 ? value : value & ((1UL << (size * 8)) - 1);
    }

    private ulong ReadRegister(ulong reg)
    {
        switch (reg)
        {
            case RegCapabilities: return Capabilities;
            case RegConfig: return _config;
            case RegStatus: return _status;
            case RegCounter: return Counter;
        }
        if (reg < RegTimers || reg >= RegTimers + 0x20 * TimerCount) return 0;
        var t = _timers[(reg - RegTimers) / 0x20];
        return ((reg - RegTimers) % 0x20) switch
        {
            0x00 => t.Config,
            0x08 => t.Comparator,
            0x10 => t.FsbRoute,
            _ => 0,
        };
    }

    public void WriteMmio(ulong offset, int size, ulong value)
    {
        int shift = (int)(offset & 7) * 8;
        if (size + (int)(offset & 7) > 8) return;   // an access may not straddle two registers
        ulong mask = (size >= 8 ? ulong.MaxValue : (1UL << (size * 8)) - 1) << shift;
        value <<= shift;
        ulong reg = offset & ~7UL;
        switch (reg)
        {
            case RegConfig: WriteConfig((_config & ~mask) | (value & mask)); return;
            case RegStatus: WriteStatus(value & mask); return;
            case RegCounter:
                if (!Enabled) _counterBase = (_counterBase & ~mask) | (value & mask);   // ignored while counting (2.3.7)
                return;
        }
        if (reg < RegTimers || reg >= RegTimers + 0x20 * TimerCount) return;
        var t = _timers[(reg - RegTimers) / 0x20];
        switch ((reg - RegTimers) % 0x20)
        {
            case 0x00: t.WriteConfig(value, mask); break;
            case 0x08: t.WriteComparator(value, mask); break;
            case 0x10: t.FsbRoute = (t.FsbRoute & ~mask) | (value & mask); break;
        }
    }

    private void WriteConfig(ulong value)
    {
        ulong old = _config;
        _config = value & (ConfigEnable | ConfigLegacy);
        ulong changed = old ^ _config;
        if ((changed & ConfigEnable) != 0)
        {
            if (Enabled) _enabledAt = _clock.Now;
            else _counterBase += (_clock.Now - _enabledAt) / TickNs;
            foreach (var t in _timers) if (Enabled) t.Arm(); else t.Disarm();
        }
        if ((changed & ConfigLegacy) != 0)
        {
            // The 8254 and RTC lose IRQ 0 and IRQ 8 to timers 0 and 1 while the legacy route is on (2.3.9.2.2).
            if (LegacyRoute)
            {
                PitOutput.Block(true);
                RtcOutput.Block(true);
            }
            _timers[0].Reroute();
            _timers[1].Reroute();
            if (!LegacyRoute)
            {
                PitOutput.Block(false);
                RtcOutput.Block(false);
            }
        }
    }

    /// <summary>Writing 1 clears a level-triggered timer's status bit and releases its line (2.3.6).</summary>
    private void WriteStatus(ulong value)
    {
        for (int i = 0; i < TimerCount; i++)
        {
            if ((value & _status & (1UL << i)) == 0) continue;
            ClearStatus(i);
            _timers[i].Release();
        }
    }
}
