using KhoEmu.Core;

namespace KhoEmu.Devices.Rtc;

/// <summary>
/// The MC146818A real-time clock and CMOS RAM at ports 0x70 (index; bit 7 is the PC's NMI mask) and 0x71 (data),
/// IRQ 8 (Motorola MC146818A data sheet; QEMU hw/rtc/mc146818rtc.c). 128 bytes: time, alarm and date registers 0-9
/// in BCD or binary and 12- or 24-hour form per register B, registers A-D, the century at 0x32 (as QEMU and the
/// FADT's century field have it) and NVRAM. The time is derived from virtual time plus the start time, so reads are
/// deterministic; the update-ended, alarm and periodic flags are computed when register C is read, and a clock
/// event is scheduled only while one of them is enabled as an interrupt.
/// </summary>
public sealed partial class Mc146818Rtc : IPortDevice
{
    // Register indices (data sheet, "Address Map").
    public const int Seconds = 0x00, SecondsAlarm = 0x01, Minutes = 0x02, MinutesAlarm = 0x03, Hours = 0x04,
        HoursAlarm = 0x05, DayOfWeek = 0x06, DayOfMonth = 0x07, Month = 0x08, Year = 0x09,
        RegisterA = 0x0A, RegisterB = 0x0B, RegisterC = 0x0C, RegisterD = 0x0D, Century = 0x32;

    // Register A: update in progress (read-only), divider select, rate select.
    public const byte Uip = 0x80, DividerMask = 0x70, RateMask = 0x0F;
    // Register B.
    public const byte Set = 0x80, Pie = 0x40, Aie = 0x20, Uie = 0x10, Sqwe = 0x08, BinaryMode = 0x04, Hour24 = 0x02, Dse = 0x01;
    // Register C (read-only, cleared by reading).
    public const byte Irqf = 0x80, Pf = 0x40, Af = 0x20, Uf = 0x10;
    // Register D: valid RAM and time (the battery is always good).
    public const byte Vrt = 0x80;

    /// <summary>How long UIP is set before each update: 244 µs (data sheet t_BUC; QEMU's UIP_HOLD_LENGTH).</summary>
    public const long UipHoldNs = 8 * 1_000_000_000L / 32768;

    private readonly byte[] _cmos = new byte[128];
    private readonly VirtualClock _clock;
    private readonly IIrqLine _irq;
    private byte _index;
    private bool _irqLevel;

    /// <param name="timerName">The clock timer of the update, alarm and periodic interrupts (<c>rtc</c>).</param>
    public Mc146818Rtc(VirtualClock clock, IIrqLine irq, DateTime start, string timerName = "rtc")
    {
        _clock = clock;
        _timer = clock.CreateTimer(timerName, OnEvent);
        _irq = irq;
        // Power-on values as QEMU's realize: 32.768 kHz divider and 1024 Hz rate, 24-hour BCD, VRT.
        _cmos[RegisterA] = 0x26;
        _cmos[RegisterB] = Hour24;
        _cmos[RegisterD] = Vrt;
        _anchor = (long)clock.Now;
        _lastSync = clock.Now;
        _secondsAtAnchor = RtcCalendar.ToSeconds(start);
        RefreshTimeRegisters();
    }

    /// <summary>Bit 7 of the last index written to port 0x70 (the NMI mask; no NMI source exists to gate).</summary>
    public bool NmiMasked { get; private set; }

    /// <summary>The RTC's time now, as the guest would read it once it is consistent (for tests and the monitor).</summary>
    public DateTime Now
    {
        get
        {
            if (Running) RefreshTimeRegisters();
            long s = RegistersToSeconds();
            var f = RtcCalendar.FromSeconds(s);
            return f.Year is >= 1 and <= 9999 ? new DateTime((int)f.Year, f.Month, f.Day, f.Hour, f.Minute, f.Second) : DateTime.MinValue;
        }
    }

    /// <summary>CMOS byte <paramref name="index"/> as the board's firmware interface fills it (memory sizes).</summary>
    public byte this[int index]
    {
        get => _cmos[index & 0x7F];
        set => _cmos[index & 0x7F] = value;
    }

    public uint ReadPort(ushort offset, int size)
    {
        if (offset == 0) return 0xFF;   // the index register is write-only (QEMU reads 0xff)
        return ReadRegister(_index);
    }

    public void WritePort(ushort offset, int size, uint value)
    {
        if (offset == 0)
        {
            _index = (byte)(value & 0x7F);
            NmiMasked = (value & 0x80) != 0;
            return;
        }
        WriteRegister(_index, (byte)value);
    }

    private static bool IsTimeRegister(int i) => i is (<= Year and not (SecondsAlarm or MinutesAlarm or HoursAlarm)) or Century;

    private byte ReadRegister(int i)
    {
        switch (i)
        {
            case RegisterA:
                return (byte)((_cmos[RegisterA] & ~Uip) | (UpdateInProgress ? Uip : 0));
            case RegisterC:
                Sync();
                byte c = _cmos[RegisterC];
                _cmos[RegisterC] = 0;
                UpdateIrq();
                Reschedule();
                return c;
            case RegisterD:
                return Vrt;
            default:
                if (IsTimeRegister(i) && Running) RefreshTimeRegisters();
                return _cmos[i];
        }
    }

    private void WriteRegister(int i, byte v)
    {
        Sync();
        bool wasRunning = Running;
        if (wasRunning) RefreshTimeRegisters();
        switch (i)
        {
            case RegisterA:
                bool wasReset = (_cmos[RegisterA] & 0x60) == 0x60;
                _cmos[RegisterA] = (byte)(v & ~Uip);
                // Leaving divider reset: the first update comes half a second later (data sheet, "Divider Control").
                if (wasReset && DividerRunning) _anchor = (long)_clock.Now - 500_000_000;
                break;
            case RegisterB:
                // Setting SET stops updates and clears UIE (data sheet, register B bit 7).
                _cmos[RegisterB] = (v & Set) != 0 ? (byte)(v & ~Uie) : v;
                break;
            case RegisterC:
            case RegisterD:
                break;   // read-only
            default:
                _cmos[i] = v;
                break;
        }
        // Whenever the clock runs after this write, it continues from what the registers now say; the divider phase
        // (when the next update happens) is kept.
        if (Running && (!wasRunning || IsTimeRegister(i))) SetTimeFromRegisters();
        UpdateIrq();
        Reschedule();
    }

    /// <summary>IRQF = PF·PIE + AF·AIE + UF·UIE (data sheet, register C); the IRQ line follows IRQF.</summary>
    private void UpdateIrq()
    {
        bool pending = (_cmos[RegisterC] & _cmos[RegisterB] & (Pf | Af | Uf)) != 0;
        _cmos[RegisterC] = (byte)(pending ? _cmos[RegisterC] | Irqf : _cmos[RegisterC] & ~Irqf);
        if (pending == _irqLevel) return;
        _irqLevel = pending;
        _irq.Set(pending);
    }
}
