using KhoEmu.Core;

namespace KhoEmu.Devices.Interrupts;

/// <summary>
/// The local APIC subset a kernel needs for timer interrupts (Intel SDM vol. 3, ch. 11): ID, version, TPR, EOI,
/// spurious vector (software enable), IRR/ISR/TMR with the EOI broadcast to the I/O APIC for level-triggered vectors,
/// the LVT timer in one-shot and periodic modes with the divide register; the APIC ID, logical destination (flat and
/// cluster models) and the interrupt command register, whose IPIs go to <see cref="IpiSink"/> (the machine's
/// <see cref="ApicBus"/>; SDM vol. 3, 11.6).
/// The timer counts at 100 MHz of virtual time divided by the divide configuration. MMIO at Q35Layout.LocalApicBase (0xFEE00000), placed by the board.
/// </summary>
public sealed partial class LocalApic : IMmioDevice
{
    private const ulong TimerHz = 100_000_000;

    private readonly VirtualClock _clock;
    private readonly uint[] _irr = new uint[8], _isr = new uint[8], _tmr = new uint[8];
    private uint _tpr, _svr = 0xFF, _lvtTimer = 0x10000, _divide, _initial, _ldr, _dfr = 0xFFFF_FFFF;
    private uint _lvtLint0 = 0x10000, _lvtLint1 = 0x10000, _lvtError = 0x10000, _esr;
    private uint _icrLow, _icrHigh;
    private bool _nmiPending;
    private ulong _timerStart;
    private readonly ClockTimer _timer;

    /// <param name="timerName">The timer's name on the clock: unique per APIC (<c>lapic1.timer</c> for processor 1).</param>
    public LocalApic(VirtualClock clock, string timerName = "lapic0.timer")
    {
        _clock = clock;
        _timer = clock.CreateTimer(timerName, TimerFired);
    }

    private bool SoftwareEnabled => (_svr & 0x100) != 0;

    private ulong DivideBy => ((_divide & 0xB) switch { 0 => 2, 1 => 4, 2 => 8, 3 => 16, 8 => 32, 9 => 64, 0xA => 128, _ => 1 });

    private ulong NsPerTick => 1_000_000_000UL / TimerHz * DivideBy;

    /// <summary>The local APIC ID (register 20H bits 31:24); the board sets it to the processor's initial APIC ID.</summary>
    public int Id { get; set; }

    /// <summary>Where IPIs written to the ICR go: (this APIC, ICR low, ICR high). Without a sink only self-IPIs with a
    /// fixed vector (shorthand self or all-including-self) arrive.</summary>
    public Action<LocalApic, uint, uint>? IpiSink { get; set; }

    /// <summary>
    /// True when a logical destination <paramref name="destination"/> names this APIC (SDM vol. 3, 11.6.2.2): in the
    /// flat model (DFR bits 31:28 = 1111b) when it shares a bit with the LDR's logical ID; in the cluster model (0000b)
    /// when the cluster (bits 7:4) equals the LDR's and the member bits (3:0) share a bit. 0xFF is every APIC.
    /// </summary>
    public bool MatchesLogical(byte destination)
    {
        if (destination == 0xFF) return true;
        uint logical = _ldr >> 24;
        if ((_dfr >> 28) == 0xF) return (logical & destination) != 0;
        return (logical >> 4) == (uint)(destination >> 4) && (logical & destination & 0xF) != 0;
    }

    /// <summary>
    /// The effect of INIT on the local APIC (SDM vol. 3, 11.4.7.3): every register back to its power-up value except
    /// the APIC ID; the timer stops.
    /// </summary>
    public void ResetForInit()
    {
        Array.Clear(_irr);
        Array.Clear(_isr);
        Array.Clear(_tmr);
        _tpr = _divide = _initial = _ldr = _esr = _icrLow = _icrHigh = 0;
        _svr = 0xFF;
        _dfr = 0xFFFF_FFFF;
        _lvtTimer = _lvtLint0 = _lvtLint1 = _lvtError = 0x10000;
        _timer.Cancel();
    }

    /// <summary>Called with the vector when the guest EOIs a level-triggered interrupt (the I/O APIC clears Remote IRR).</summary>
    public Action<int>? EoiBroadcast { get; set; }

    /// <summary>Accepts a fixed interrupt for <paramref name="vector"/> (IOAPIC, MSI, self-IPI, timer).</summary>
    public void Accept(int vector, bool levelTriggered = false)
    {
        if (vector < 16 || vector > 255) return;
        uint bit = 1u << (vector & 31);
        _irr[vector >> 5] |= bit;
        if (levelTriggered) _tmr[vector >> 5] |= bit; else _tmr[vector >> 5] &= ~bit;
    }

    private static int Highest(uint[] bits)
    {
        for (int i = 7; i >= 0; i--)
            if (bits[i] != 0) return i * 32 + 31 - System.Numerics.BitOperations.LeadingZeroCount(bits[i]);
        return -1;
    }

    public bool HasPending
    {
        get
        {
            int irr = Highest(_irr);
            if (irr < 0) return false;
            int isr = Highest(_isr);
            return (irr >> 4) > (isr >> 4) && (irr >> 4) > (int)((_tpr >> 4) & 0xF);
        }
    }

    public int Acknowledge()
    {
        if (!HasPending) return -1;
        int v = Highest(_irr);
        _irr[v >> 5] &= ~(1u << (v & 31));
        _isr[v >> 5] |= 1u << (v & 31);
        return v;
    }

    /// <summary>An NMI accepted through the ICR and not yet taken by the CPU.</summary>
    public bool HasPendingNmi => _nmiPending;

    public bool AcknowledgeNmi()
    {
        bool was = _nmiPending;
        _nmiPending = false;
        return was;
    }

    /// <summary>
    /// A write of ICR low sends an IPI (SDM vol. 3, 11.6.1). This processor is the only one, so an IPI reaches it when
    /// the shorthand is self (01b) or all-including-self (10b), or with no shorthand when the destination names it:
    /// physical mode APIC ID 0 or the broadcast FFh, logical flat mode a destination that shares a bit with the LDR.
    /// Fixed interrupts set IRR; NMI (delivery mode 100b) is taken by the CPU whatever RFLAGS.IF says. As QEMU
    /// does, NMI is also accepted with the self shorthand, which the SDM lists as invalid. Other delivery modes
    /// (SMI, INIT, start-up) have no target here. Delivery is immediate: the delivery-status bit always reads idle.
    /// </summary>
    private void SendIpi(uint low)
    {
        _icrLow = low & ~(1u << 12);
        uint shorthand = (low >> 18) & 3, dest = _icrHigh >> 24;
        bool toSelf = shorthand switch
        {
            1 or 2 => true,
            3 => false,
            _ => (low & (1u << 11)) == 0 ? dest is 0 or 0xFF : (dest & (_ldr >> 24)) != 0,
        };
        if (!toSelf) return;
        switch ((low >> 8) & 7)
        {
            case 0: Accept((int)(low & 0xFF), (low & (1u << 15)) != 0); break;
            case 4: _nmiPending = true; break;
        }
    }

    private uint CurrentCount()
    {
        if (_initial == 0) return 0;
        ulong ticks = (_clock.Now - _timerStart) / NsPerTick;
        bool periodic = ((_lvtTimer >> 17) & 3) == 1;
        if (periodic) return (uint)(_initial - ticks % _initial);
        return ticks >= _initial ? 0 : (uint)(_initial - ticks);
    }

    private void ArmTimer()
    {
        _timer.Cancel();
        if (_initial == 0) return;
        _timerStart = _clock.Now;
        _timer.Arm(_clock.Now + _initial * NsPerTick);
    }

    private void TimerFired()
    {
        if ((_lvtTimer & 0x10000) == 0 && SoftwareEnabled) Accept((int)(_lvtTimer & 0xFF));
        if (((_lvtTimer >> 17) & 3) == 1)
        {
            _timerStart = _clock.Now;
            _timer.Arm(_clock.Now + _initial * NsPerTick);
        }
    }

    public ulong ReadMmio(ulong offset, int size)
    {
        uint reg = (uint)(offset & 0xFF0);
        return reg switch
        {
            0x020 => (uint)Id << 24,
            0x030 => 0x0005_0014,          // version 0x14, max LVT entry 5
            0x080 => _tpr,
            0x0D0 => _ldr,
            0x0E0 => _dfr,
            0x0F0 => _svr,
            0x280 => _esr,
            0x300 => _icrLow,              // delivery status (bit 12) always idle: an IPI is delivered at once
            0x310 => _icrHigh,
            >= 0x100 and < 0x180 => _isr[(reg - 0x100) >> 4],
            >= 0x180 and < 0x200 => _tmr[(reg - 0x180) >> 4],
            >= 0x200 and < 0x280 => _irr[(reg - 0x200) >> 4],
            0x320 => _lvtTimer,
            0x350 => _lvtLint0,
            0x360 => _lvtLint1,
            0x370 => _lvtError,
            0x380 => _initial,
            0x390 => CurrentCount(),
            0x3E0 => _divide,
            _ => 0,
        };
    }

    public void WriteMmio(ulong offset, int size, ulong value)
    {
        uint v = (uint)value;
        switch ((uint)(offset & 0xFF0))
        {
            case 0x080: _tpr = v & 0xFF; break;
            case 0x0B0:
                int s = Highest(_isr);
                if (s < 0) break;
                _isr[s >> 5] &= ~(1u << (s & 31));
                if ((_tmr[s >> 5] & (1u << (s & 31))) != 0) EoiBroadcast?.Invoke(s);
                break;
            case 0x0D0: _ldr = v & 0xFF00_0000; break;
            case 0x0E0: _dfr = v | 0x0FFF_FFFF; break;
            case 0x0F0: _svr = v & 0x3FF; break;
            case 0x280: _esr = 0; break;
            case 0x020: Id = (int)(v >> 24); break;
            case 0x300:
                _icrLow = v & 0x000C_CFFF;  // vector, delivery and destination mode, level, trigger, shorthand
                if (IpiSink is { } sink) sink(this, _icrLow, _icrHigh);
                else SendIpi(v);
                break;
            case 0x310: _icrHigh = v & 0xFF00_0000; break;
            case 0x320: _lvtTimer = v & 0x700FF; break;
            case 0x350: _lvtLint0 = v; break;
            case 0x360: _lvtLint1 = v; break;
            case 0x370: _lvtError = v; break;
            case 0x380: _initial = v; ArmTimer(); break;
            case 0x3E0: _divide = v & 0xB; break;
        }
    }
}
