using KhoEmu.Core;

namespace KhoEmu.Devices.Acpi;

/// <summary>
/// The ICH9 LPC bridge's ACPI power-management I/O block at PMBASE 0x600, 128 bytes, as QEMU's hw/acpi/ich9.c and
/// core.c model it (ACPI 6.4 4.8.3 "PM1 Event Grouping", 4.8.3.2 "PM1 Control", 4.8.3.3 "Power Management Timer",
/// 5.2.9/4.8.4 GPE blocks; ICH9 data sheet 13.8.3): PM1a status (+0, write 1 to clear) and enable (+2), PM1a control
/// (+4: SCI_EN, SLP_TYP, SLP_EN), the 24-bit 3.579545 MHz PM timer (+8), GPE0 status (+0x20) and enable (+0x28),
/// SMI_EN (+0x30). The SCI (GSI 9, level, active high) is asserted while any enabled PM1 or GPE0 status is set.
/// Every register is byte-addressable; wider accesses are their bytes in little-endian order.
/// </summary>
public sealed partial class Ich9PowerManagement : IPortDevice
{
    public const ulong TimerHz = 3_579_545;

    // PM1 status / enable bits (ACPI 6.4 tables 4.16 and 4.17).
    public const ushort TmrSts = 1 << 0, BmSts = 1 << 4, GblSts = 1 << 5, PwrBtnSts = 1 << 8, SlpBtnSts = 1 << 9,
        RtcSts = 1 << 10, PciExpWakeSts = 1 << 14, WakSts = 1 << 15;
    public const ushort TmrEn = 1 << 0, GblEn = 1 << 5, PwrBtnEn = 1 << 8, SlpBtnEn = 1 << 9, RtcEn = 1 << 10;
    // PM1 control bits (ACPI 6.4 table 4.18).
    public const ushort SciEn = 1 << 0, BmRld = 1 << 1, GblRls = 1 << 2, SlpTypMask = 7 << 10, SlpEn = 1 << 13;

    // Offsets in the block.
    public const int Pm1Status = 0x00, Pm1Enable = 0x02, Pm1Control = 0x04, PmTimer = 0x08, Gpe0Status = 0x20,
        Gpe0Enable = 0x28, GpeHalf = 8, SmiEnable = 0x30;

    /// <summary>SLP_TYP values: S5 soft-off is 0 (the \_S5 package {0,0,0,0}); QEMU's ICH9 treats 2 (S4) as off too.</summary>
    public const int SleepTypeS5 = 0, SleepTypeS4 = 2;

    private const ushort StatusBits = TmrSts | BmSts | GblSts | PwrBtnSts | SlpBtnSts | RtcSts | PciExpWakeSts | WakSts;
    private const ushort EnableBits = TmrEn | GblEn | PwrBtnEn | SlpBtnEn | RtcEn | PciExpWakeSts;
    private const ushort ControlBits = SciEn | BmRld | SlpTypMask;
    private const ulong TimerOverflowTicks = 1UL << 23;   // TMR_STS sets whenever bit 23 of the counter toggles

    private readonly VirtualClock _clock;
    private readonly IIrqLine _sci;
    private readonly Action _powerOff;
    private readonly byte[] _gpeStatus = new byte[GpeHalf], _gpeEnable = new byte[GpeHalf];
    private ushort _status, _enable, _control;
    private uint _smiEnable;
    private ulong _nextOverflow = TimerOverflowTicks;
    private bool _sciLevel;
    private readonly ClockTimer _overflowTimer;

    /// <param name="sci">The SCI line (ISA IRQ 9).</param>
    /// <param name="powerOff">Called when the guest enters S5 (or S4).</param>
    /// <param name="timerName">The clock timer of the PM timer's overflow (<c>acpi-pm.overflow</c>).</param>
    public Ich9PowerManagement(VirtualClock clock, IIrqLine sci, Action powerOff, string timerName = "acpi-pm.overflow")
    {
        _clock = clock;
        _overflowTimer = clock.CreateTimer(timerName, UpdateSci);
        _sci = sci;
        _powerOff = powerOff;
    }

    /// <summary>PM timer ticks since power-on (the guest sees the low 24 bits).</summary>
    public ulong TimerTicks => (ulong)((UInt128)_clock.Now * TimerHz / 1_000_000_000UL);

    public ushort Status
    {
        get
        {
            if (TimerTicks >= _nextOverflow) _status |= TmrSts;
            return _status;
        }
    }

    public ushort Control => _control;
    public bool SciEnabled => (_control & SciEn) != 0;

    /// <summary>SMI_CMD (port 0xB2) as QEMU's ICH9: ACPI_ENABLE 0x02 sets SCI_EN, ACPI_DISABLE 0x03 clears it.</summary>
    public void ApmCommand(byte command)
    {
        if (command == 0x02) _control |= SciEn;
        else if (command == 0x03) _control = (ushort)(_control & ~SciEn);
    }

    /// <summary>The power button was pressed (QEMU's system_powerdown): PWRBTN_STS, an SCI if enabled.</summary>
    public void PressPowerButton()
    {
        _status |= PwrBtnSts;
        UpdateSci();
    }

    /// <summary>A general-purpose event (hot-plug and the like): sets GPE0 status bit <paramref name="bit"/>.</summary>
    public void RaiseGpe(int bit)
    {
        if ((uint)bit >= GpeHalf * 8) return;
        _gpeStatus[bit / 8] |= (byte)(1 << (bit % 8));
        UpdateSci();
    }

    public uint ReadPort(ushort offset, int size)
    {
        uint value = 0;
        for (int i = 0; i < size; i++) value |= (uint)ReadByte(offset + i) << (8 * i);
        return value;
    }

    public void WritePort(ushort offset, int size, uint value)
    {
        for (int i = 0; i < size; i++) WriteByte(offset + i, (byte)(value >> (8 * i)));
        UpdateSci();
    }

    private byte ReadByte(int offset)
    {
        switch (offset)
        {
            case Pm1Status or Pm1Status + 1: return (byte)(Status >> (8 * (offset - Pm1Status)));
            case Pm1Enable or Pm1Enable + 1: return (byte)(_enable >> (8 * (offset - Pm1Enable)));
            case Pm1Control or Pm1Control + 1: return (byte)(_control >> (8 * (offset - Pm1Control)));
            case >= PmTimer and < PmTimer + 3: return (byte)(TimerTicks >> (8 * (offset - PmTimer)));
            case PmTimer + 3: return 0;                                   // a 24-bit timer (FADT TMR_VAL_EXT = 0)
            case >= Gpe0Status and < Gpe0Status + GpeHalf: return _gpeStatus[offset - Gpe0Status];
            case >= Gpe0Enable and < Gpe0Enable + GpeHalf: return _gpeEnable[offset - Gpe0Enable];
            case >= SmiEnable and < SmiEnable + 4: return (byte)(_smiEnable >> (8 * (offset - SmiEnable)));
            default: return 0;
        }
    }

    private void WriteByte(int offset, byte v)
    {
        switch (offset)
        {
            case Pm1Status or Pm1Status + 1:
                ushort clear = (ushort)(v << (8 * (offset - Pm1Status)) & StatusBits);
                bool timerCleared = (Status & clear & TmrSts) != 0;
                _status = (ushort)(_status & ~clear);
                if (timerCleared)
                {
                    // The next TMR_STS comes at the next toggle of bit 23 (QEMU's acpi_pm_tmr_calc_overflow_time).
                    _nextOverflow = (TimerTicks + TimerOverflowTicks) & ~(TimerOverflowTicks - 1);
                    ScheduleOverflow();
                }
                break;
            case Pm1Enable or Pm1Enable + 1:
                int shift = 8 * (offset - Pm1Enable);
                _enable = (ushort)((_enable & ~(0xFF << shift)) | (v << shift & EnableBits));
                ScheduleOverflow();
                break;
            case Pm1Control:
                _control = (ushort)((_control & 0xFF00) | (v & ControlBits & 0xFF));
                break;
            case Pm1Control + 1:
                _control = (ushort)((_control & 0x00FF) | (v << 8 & ControlBits & 0xFF00));
                if ((v << 8 & SlpEn) != 0) Sleep((v >> 2) & 7);
                break;
            case >= Gpe0Status and < Gpe0Status + GpeHalf:
                _gpeStatus[offset - Gpe0Status] &= (byte)~v;
                break;
            case >= Gpe0Enable and < Gpe0Enable + GpeHalf:
                _gpeEnable[offset - Gpe0Enable] = v;
                break;
            case >= SmiEnable and < SmiEnable + 4:
                int s = 8 * (offset - SmiEnable);
                _smiEnable = (_smiEnable & ~(0xFFu << s)) | (uint)v << s;
                break;
        }
    }

    /// <summary>
    /// SLP_EN with SLP_TYP: S5 (0) and, as QEMU's ICH9, S4 (2) power off. No sleeping state is modelled, so any other
    /// type wakes at once: WAK_STS is set and the guest continues, as after an immediate wake event.
    /// </summary>
    private void Sleep(int type)
    {
        if (type is SleepTypeS5 or SleepTypeS4) _powerOff();
        else _status |= WakSts;
    }

    private void UpdateSci()
    {
        const ushort sciSources = TmrEn | GblEn | PwrBtnEn | RtcEn | SlpBtnEn;
        bool level = (Status & _enable & sciSources) != 0;
        for (int i = 0; i < GpeHalf && !level; i++) level = (_gpeStatus[i] & _gpeEnable[i]) != 0;
        if (level == _sciLevel) return;
        _sciLevel = level;
        _sci.Set(level);
    }

    /// <summary>While TMR_EN is set and TMR_STS clear, an event at the next overflow raises the SCI.</summary>
    private void ScheduleOverflow()
    {
        _overflowTimer.Cancel();
        if ((_enable & TmrEn) == 0 || (Status & TmrSts) != 0) return;
        ulong ns = (ulong)(((UInt128)_nextOverflow * 1_000_000_000UL + TimerHz - 1) / TimerHz);
        _overflowTimer.Arm(Math.Max(ns, _clock.Now + 1));
    }
}
