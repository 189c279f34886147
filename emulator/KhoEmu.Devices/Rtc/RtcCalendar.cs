namespace KhoEmu.Devices.Rtc;

/// <summary>
/// Civil-calendar arithmetic on seconds since 1970-01-01 (proleptic Gregorian, no time zone), tolerant of the
/// out-of-range fields a guest may write (day 31 of February rolls into March, as QEMU's mktimegm does).
/// </summary>
public static class RtcCalendar
{
    public readonly record struct Fields(long Year, int Month, int Day, int Hour, int Minute, int Second, int DayOfWeek);

    /// <summary>Days from 1970-01-01 to the given date (Howard Hinnant's days_from_civil).</summary>
    public static long DaysFromCivil(long year, long month, long day)
    {
        year += FloorDiv(month - 1, 12);
        month = FloorMod(month - 1, 12) + 1;
        year -= month <= 2 ? 1 : 0;
        long era = FloorDiv(year, 400);
        long yoe = year - era * 400;
        long doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
        long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
    }

    public static long ToSeconds(long year, long month, long day, long hour, long minute, long second) =>
        DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;

    public static long ToSeconds(DateTime t) =>
        ToSeconds(t.Year, t.Month, t.Day, t.Hour, t.Minute, t.Second);

    /// <summary>Broken-down time; DayOfWeek is 0 for Sunday.</summary>
    public static Fields FromSeconds(long seconds)
    {
        long days = FloorDiv(seconds, 86400);
        long sod = seconds - days * 86400;
        long z = days + 719468;
        long era = FloorDiv(z, 146097);
        long doe = z - era * 146097;
        long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        long mp = (5 * doy + 2) / 153;
        int day = (int)(doy - (153 * mp + 2) / 5 + 1);
        int month = (int)(mp < 10 ? mp + 3 : mp - 9);
        long year = yoe + era * 400 + (month <= 2 ? 1 : 0);
        int dow = (int)FloorMod(days + 4, 7);   // 1970-01-01 was a Thursday
        return new Fields(year, month, day, (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60), dow);
    }

    public static byte ToBcd(int v) => (byte)((v / 10 % 10) << 4 | v % 10);

    /// <summary>Decodes a BCD byte as QEMU's rtc_from_bcd does (nibbles above 9 are taken at face value).</summary>
    public static int FromBcd(int v) => (v >> 4) * 10 + (v & 0x0F);

    private static long FloorDiv(long a, long b) => a / b - ((a % b != 0 && (a < 0) != (b < 0)) ? 1 : 0);

    private static long FloorMod(long a, long b) => a - FloorDiv(a, b) * b;
}
