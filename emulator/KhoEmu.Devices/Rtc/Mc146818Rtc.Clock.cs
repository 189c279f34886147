using KhoEmu.Core;

namespace KhoEmu.Devices.Rtc;

/// <summary>
/// The time base: the divider chain's phase (<see cref="_anchor"/>, the virtual time of an update boundary; updates
/// follow every second), the seconds count at that boundary, and lazy evaluation of the update-ended, alarm and
/// periodic flags over the virtual time since the last evaluation.
/// </summary>
public sealed partial class Mc146818Rtc
{
    private const long NsPerSecond = 1_000_000_000;
    private const long DividerHz = 32768;

    private long _anchor;             // virtual ns of an update boundary (may lie before 0 after a divider restart)
    private long _secondsAtAnchor;    // the clock's seconds since 1970 right after that boundary's update
    private ulong _lastSync;          // flags are accounted for up to this virtual time
    private readonly ClockTimer _timer;

    /// <summary>Divider selects 000, 001 or 010 (a running time base, as QEMU accepts); 11x holds it in reset.</summary>
    private bool DividerRunning => (_cmos[RegisterA] & DividerMask) <= 0x20;

    /// <summary>Updates happen: the divider runs and SET is clear.</summary>
    private bool Running => DividerRunning && (_cmos[RegisterB] & Set) == 0;

    private long SinceAnchor => (long)_clock.Now - _anchor;

    private bool UpdateInProgress => Running && FloorMod(SinceAnchor, NsPerSecond) >= NsPerSecond - UipHoldNs;

    /// <summary>Periodic interrupt period in 32.768 kHz cycles (data sheet table 5): RS 1-2 are 256/128 Hz.</summary>
    private long PeriodCycles
    {
        get
        {
            int rs = _cmos[RegisterA] & RateMask;
            if (rs == 0) return 0;
            if (rs <= 2) rs += 7;
            return 1L << (rs - 1);
        }
    }

    private long CurrentSeconds => _secondsAtAnchor + FloorDiv(SinceAnchor, NsPerSecond);

    /// <summary>Sets UF, AF and PF for every update and periodic tick between the last evaluation and now.</summary>
    private void Sync()
    {
        ulong now = _clock.Now;
        if (now <= _lastSync) return;
        long from = (long)_lastSync - _anchor, to = (long)now - _anchor;
        _lastSync = now;
        if (Running)
        {
            long s0 = FloorDiv(from, NsPerSecond), s1 = FloorDiv(to, NsPerSecond);
            if (s1 > s0)
            {
                _cmos[RegisterC] |= Uf;
                if (NextAlarm(_secondsAtAnchor + s0) is long t && t <= _secondsAtAnchor + s1) _cmos[RegisterC] |= Af;
            }
        }
        long period = PeriodCycles;
        if (DividerRunning && period != 0 && Cycles(to) / period > Cycles(from) / period) _cmos[RegisterC] |= Pf;
    }

    /// <summary>32.768 kHz divider cycles completed <paramref name="ns"/> after the anchor.</summary>
    private static long Cycles(long ns) => (long)Int128.DivRem((Int128)ns * DividerHz - (ns < 0 ? NsPerSecond - 1 : 0), NsPerSecond).Quotient;

    private static long CyclesToNs(long cycles) => (long)(((Int128)cycles * NsPerSecond + DividerHz - 1) / DividerHz);

    /// <summary>Schedules a clock event for the next moment an enabled flag will be set (none while IRQF is set).</summary>
    private void Reschedule()
    {
        _timer.Cancel();
        if ((_cmos[RegisterC] & Irqf) != 0) return;   // the line stays high until register C is read
        byte enabled = _cmos[RegisterB];
        long since = SinceAnchor, next = long.MaxValue;
        long period = PeriodCycles;
        if ((enabled & Pie) != 0 && DividerRunning && period != 0)
            next = Math.Min(next, CyclesToNs((Cycles(since) / period + 1) * period));
        if (Running && (enabled & (Uie | Aie)) != 0)
        {
            long s = FloorDiv(since, NsPerSecond);
            if ((enabled & Uie) != 0) next = Math.Min(next, (s + 1) * NsPerSecond);
            else if (NextAlarm(_secondsAtAnchor + s) is long t) next = Math.Min(next, (t - _secondsAtAnchor) * NsPerSecond);
        }
        if (next == long.MaxValue) return;
        _timer.Arm((ulong)Math.Max(_anchor + next, (long)_clock.Now + 1));
    }

    private void OnEvent()
    {
        Sync();
        UpdateIrq();
        Reschedule();
    }

    /// <summary>
    /// The first second after <paramref name="after"/> whose time of day matches the alarm registers; a register with
    /// bits 7-6 both set matches any value (data sheet, "Alarm"); a value out of range never matches.
    /// </summary>
    private long? NextAlarm(long after)
    {
        int? sec = AlarmField(SecondsAlarm, 60), min = AlarmField(MinutesAlarm, 60), hour = AlarmField(HoursAlarm, 24);
        if (sec == -1 || min == -1 || hour == -1) return null;
        long day0 = FloorDiv(after, 86400);
        for (long day = day0; day <= day0 + 1; day++)
        {
            for (int h = 0; h < 24; h++)
            {
                long hourStart = day * 86400 + h * 3600L;
                if ((hour is int hh && hh != h) || hourStart + 3599 <= after) continue;
                for (int m = 0; m < 60; m++)
                {
                    long minuteStart = hourStart + m * 60L;
                    if ((min is int mm && mm != m) || minuteStart + 59 <= after) continue;
                    if (sec is not int ss) return Math.Max(minuteStart, after + 1);
                    if (minuteStart + ss > after) return minuteStart + ss;
                }
            }
        }
        return null;
    }

    /// <summary>An alarm register decoded: null for "don't care", -1 for a value that can never match.</summary>
    private int? AlarmField(int reg, int limit)
    {
        byte v = _cmos[reg];
        if ((v & 0xC0) == 0xC0) return null;
        int decoded = reg == HoursAlarm ? DecodeHour(v) : Decode(v);
        return decoded >= 0 && decoded < limit ? decoded : -1;
    }

    private bool Bcd => (_cmos[RegisterB] & BinaryMode) == 0;

    private int Decode(byte v) => Bcd ? RtcCalendar.FromBcd(v) : v;

    private byte Encode(int v) => Bcd ? RtcCalendar.ToBcd(v) : (byte)v;

    /// <summary>Hours: in 12-hour mode 1-12 with bit 7 for PM (data sheet, table 3).</summary>
    private int DecodeHour(byte v)
    {
        if ((_cmos[RegisterB] & Hour24) != 0) return Decode(v);
        return Decode((byte)(v & 0x7F)) % 12 + ((v & 0x80) != 0 ? 12 : 0);
    }

    private byte EncodeHour(int h)
    {
        if ((_cmos[RegisterB] & Hour24) != 0) return Encode(h);
        int h12 = h % 12 == 0 ? 12 : h % 12;
        return (byte)(Encode(h12) | (h >= 12 ? 0x80 : 0));
    }

    /// <summary>Writes the current time into registers 0-9 and the century in the format register B selects.</summary>
    private void RefreshTimeRegisters()
    {
        var f = RtcCalendar.FromSeconds(CurrentSeconds);
        _cmos[Seconds] = Encode(f.Second);
        _cmos[Minutes] = Encode(f.Minute);
        _cmos[Hours] = EncodeHour(f.Hour);
        _cmos[DayOfWeek] = Encode(f.DayOfWeek + 1);   // 1 = Sunday, as PC firmware and QEMU count
        _cmos[DayOfMonth] = Encode(f.Day);
        _cmos[Month] = Encode(f.Month);
        long year = Math.Clamp(f.Year, 0, 9999);
        _cmos[Year] = Encode((int)(year % 100));
        _cmos[Century] = Encode((int)(year / 100));
    }

    /// <summary>The registers' time as seconds since 1970; out-of-range fields roll over rather than fail.</summary>
    private long RegistersToSeconds() => RtcCalendar.ToSeconds(
        Decode(_cmos[Century]) * 100L + Decode(_cmos[Year]), Decode(_cmos[Month]), Decode(_cmos[DayOfMonth]),
        DecodeHour(_cmos[Hours]), Decode(_cmos[Minutes]), Decode(_cmos[Seconds]));

    private void SetTimeFromRegisters() => _secondsAtAnchor = RegistersToSeconds() - FloorDiv(SinceAnchor, NsPerSecond);

    private static long FloorDiv(long a, long b) => a / b - ((a % b != 0 && (a < 0) != (b < 0)) ? 1 : 0);

    private static long FloorMod(long a, long b) => a - FloorDiv(a, b) * b;
}
