namespace KhoEmu.Devices.Rtc;

/// <summary>
/// The CMOS bytes a PC board fills for its firmware, as QEMU's pc_cmos_init (hw/i386/pc.c) does: base memory
/// 0x15/0x16 (KiB, at most 640), extended memory 0x17/0x18 and 0x30/0x31 (KiB above 1 MiB, at most 65535),
/// 0x34/0x35 (64 KiB units between 16 MiB and 4 GiB, at most 65535), 0x5B-0x5D (64 KiB units above 4 GiB) and
/// 0x5F (CPUs - 1). All little endian.
/// </summary>
public static class PcCmosLayout
{
    private const ulong KiB = 1024, MiB = 1024 * KiB;

    public static void WriteMemorySize(Mc146818Rtc rtc, ulong below4G, ulong above4G, int cpus)
    {
        ulong baseKb = Math.Min(below4G / KiB, 640);
        Put16(rtc, 0x15, baseKb);
        ulong extKb = below4G > MiB ? Math.Min((below4G - MiB) / KiB, 65535) : 0;
        Put16(rtc, 0x17, extKb);
        Put16(rtc, 0x30, extKb);
        ulong above16M = below4G > 16 * MiB ? Math.Min((below4G - 16 * MiB) / (64 * KiB), 65535) : 0;
        Put16(rtc, 0x34, above16M);
        ulong high = above4G / (64 * KiB);
        rtc[0x5B] = (byte)high;
        rtc[0x5C] = (byte)(high >> 8);
        rtc[0x5D] = (byte)(high >> 16);
        rtc[0x5F] = (byte)(cpus - 1);
    }

    private static void Put16(Mc146818Rtc rtc, int index, ulong value)
    {
        rtc[index] = (byte)value;
        rtc[index + 1] = (byte)(value >> 8);
    }
}
