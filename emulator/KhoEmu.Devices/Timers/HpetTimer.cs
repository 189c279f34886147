using KhoEmu.Core;

namespace KhoEmu.Devices.Timers;

/// <summary>
/// One HPET comparator (IA-PC HPET specification 1.0a, 2.3.8 "Timer N Configuration and Capabilities",
/// 2.3.9 "Timer N Comparator"): one-shot or periodic, 64- or 32-bit, edge or level interrupt on the route it selects
/// (or IRQ 0 / IRQ 8 for timers 0 and 1 under legacy replacement). It is armed while the HPET and its interrupt are
/// enabled; a comparator already passed fires one tick later, as QEMU's hpet.c does.
/// </summary>
public sealed partial class HpetTimer
{
    // Tn_CONF_CAP bits (2.3.8).
    public const ulong LevelTriggered = 1 << 1, InterruptEnable = 1 << 2, Periodic = 1 << 3, PeriodicCapable = 1 << 4,
        Size64Capable = 1 << 5, ValueSet = 1 << 6, Mode32 = 1 << 8, RouteMask = 0x1FUL << 9, FsbEnable = 1 << 14;
    /// <summary>The writable bits: type, enable, periodic, value-set, 32-bit mode, route (QEMU's HPET_TN_CFG_WRITE_MASK
    /// without FSB delivery, which is not advertised).</summary>
    public const ulong WritableConfig = LevelTriggered | InterruptEnable | Periodic | ValueSet | Mode32 | RouteMask;

    private readonly Hpet _hpet;
    private readonly ClockTimer _timer;
    private bool _asserted;         // the level-triggered line this timer holds high, and where
    private int _assertedRoute = -1;

    internal HpetTimer(Hpet hpet, int index, VirtualClock clock, string timerName)
    {
        _hpet = hpet;
        _timer = clock.CreateTimer(timerName, Fire);
        Index = index;
        Config = (ulong)Hpet.InterruptRouteCapability << 32 | PeriodicCapable | Size64Capable;
    }

    public int Index { get; }
    public ulong Config { get; private set; }
    public ulong Comparator { get; private set; } = ulong.MaxValue;
    public ulong Period { get; private set; }
    public ulong FsbRoute { get; internal set; }

    private bool Is32 => (Config & Mode32) != 0;
    private bool IsPeriodic => (Config & Periodic) != 0;
    private bool IsLevel => (Config & LevelTriggered) != 0;
    private bool Enabled => (Config & InterruptEnable) != 0;

    /// <summary>The interrupt line: legacy IRQ 0 / 8 (encoded -1 / -2) for timers 0 and 1, else the I/O APIC pin.</summary>
    private int Route => _hpet.LegacyRoute && Index <= 1 ? -1 - Index : (int)((Config & RouteMask) >> 9);

    internal void WriteConfig(ulong value, ulong mask)
    {
        int oldRoute = Route;
        ulong writable = mask & WritableConfig;
        Config = (Config & ~writable) | (value & writable);
        if (Is32)
        {
            Comparator = (uint)Comparator;
            Period = (uint)Period;
        }
        if (!IsLevel) _hpet.ClearStatus(Index);
        if (Route != oldRoute || !IsLevel || !Enabled) Release();
        Arm();
        if (IsLevel && Enabled && _hpet.IsStatusSet(Index)) Assert();
    }

    internal void WriteComparator(ulong value, ulong mask)
    {
        if (Is32) mask &= 0xFFFF_FFFF;
        // In periodic mode a write sets the period; with ValueSet it also sets the comparator (2.3.9.2.2).
        if (!IsPeriodic || (Config & ValueSet) != 0) Comparator = (Comparator & ~mask) | (value & mask);
        Period = (Period & ~mask) | (value & mask);
        Config &= ~ValueSet;
        Arm();
    }

    /// <summary>(Re)schedules the next comparator match, or stops the timer when it cannot interrupt.</summary>
    internal void Arm()
    {
        _timer.Cancel();
        if (!_hpet.Enabled || !Enabled) return;
        ulong now = _hpet.Counter;
        ulong diff = Is32 ? (uint)((uint)Comparator - (uint)now) : Comparator - now;
        bool passed = Is32 ? (int)(uint)diff <= 0 : (long)diff <= 0;
        _hpet.ArmAtCount(_timer, now + (passed ? 1 : diff));
    }

    internal void Disarm() => _timer.Cancel();

    private void Fire()
    {
        ulong now = _hpet.Counter;
        if (IsPeriodic && Period != 0)
        {
            // The comparator advances by the period past the counter (2.3.9.2.2, "Periodic mode").
            if (Is32)
            {
                uint behind = (uint)now - (uint)Comparator;
                if ((int)behind >= 0) Comparator = (uint)(Comparator + (behind / (uint)Period + 1) * (uint)Period);
            }
            else if ((long)(now - Comparator) >= 0) Comparator += ((now - Comparator) / Period + 1) * Period;
            Arm();
        }
        Raise();
    }

    private void Raise()
    {
        if (IsLevel)
        {
            _hpet.SetStatus(Index);
            Assert();
        }
        else
        {
            _hpet.ClearStatus(Index);
            int route = Route;
            _hpet.DriveLine(route, true);
            _hpet.DriveLine(route, false);
        }
    }

    private void Assert()
    {
        if (_asserted) return;
        _asserted = true;
        _assertedRoute = Route;
        _hpet.DriveLine(_assertedRoute, true);
    }

    /// <summary>Lowers a level-triggered line this timer holds (status cleared, or routing about to change).</summary>
    internal void Release()
    {
        if (!_asserted) return;
        _asserted = false;
        _hpet.DriveLine(_assertedRoute, false);
    }

    /// <summary>After the legacy route changes: a held line moves to the new route.</summary>
    internal void Reroute()
    {
        if (!_asserted) return;
        Release();
        Assert();
    }
}
