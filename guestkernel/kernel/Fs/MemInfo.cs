using KhoEmu.Kernel.Mm;

namespace KhoEmu.Kernel.Fs;

/// <summary>
/// /proc/meminfo's first two lines as Linux prints them (fs/proc/meminfo.c: "%-16s%8lu kB"): MemTotal and MemFree,
/// so a test program reads the guest's free memory the same way on this kernel and on Linux.
/// </summary>
public static unsafe class MemInfo
{
    public static long Open()
    {
        byte* text = (byte*)Internal.Runtime.Heap.Allocate(128);
        int n = Line(text, 0, "MemTotal:", PageAllocator.TotalRamFrames * (Phys.PageSize / 1024));
        n = Line(text, n, "MemFree:", PageAllocator.FreeFrames * (Phys.PageSize / 1024));
        return FdTable.Install(new BufferFile(text, (ulong)n, 0));
    }

    private static int Line(byte* b, int at, string label, ulong kib)
    {
        for (int i = 0; i < label.Length; i++) b[at++] = (byte)label[i];
        for (int i = label.Length; i < 16; i++) b[at++] = (byte)' ';
        byte* digits = stackalloc byte[20];
        int d = 0;
        do { digits[d++] = (byte)('0' + (int)(kib % 10)); kib /= 10; } while (kib != 0);
        for (int i = d; i < 8; i++) b[at++] = (byte)' ';
        while (d > 0) b[at++] = digits[--d];
        b[at++] = (byte)' ';
        b[at++] = (byte)'k';
        b[at++] = (byte)'B';
        b[at++] = (byte)'\n';
        return at;
    }
}
