using KhoEmu.Kernel.Boot;
using Internal.Runtime;
using KhoEmu.Kernel.Drivers;

using KhoEmu.Guest.Platform;
namespace KhoEmu.Kernel.Mm;

/// <summary>
/// The page-frame allocator: one bit per 4 KiB frame up to the highest RAM address (1 = in use). Built from the
/// memory map: only E820 RAM above 1 MiB is ever free; the kernel image, boot structures and the bitmap itself are
/// reserved. Allocation is first-fit for runs of contiguous frames, with a rotating hint.
/// </summary>
public static unsafe class PageAllocator
{
    private static ulong* s_bitmap;
    private static ulong s_frames;
    private static ulong s_hint;
    public static ulong FreeFrames;
    public static ulong TotalRamFrames;
    public static ulong HighestRam;

    public static void Init(ulong imagePhys, ulong imageSize)
    {
        for (int i = 0; i < BootInfo.MemMapCount; i++)
        {
            var e = BootInfo.MemMap[i];
            if (e.Type == MemMapEntry.Ram && e.Addr + e.Size > HighestRam) HighestRam = e.Addr + e.Size;
        }
        s_frames = HighestRam / Phys.PageSize;
        ulong bitmapBytes = Phys.AlignUp((s_frames + 63) / 64 * 8, Phys.PageSize);

        // Place the bitmap in the first RAM range above 1 MiB that does not overlap the kernel image.
        ulong bitmapPhys = 0;
        for (int i = 0; i < BootInfo.MemMapCount && bitmapPhys == 0; i++)
        {
            var e = BootInfo.MemMap[i];
            if (e.Type != MemMapEntry.Ram) continue;
            ulong start = Phys.AlignUp(e.Addr < 0x100000 ? 0x100000 : e.Addr, Phys.PageSize);
            ulong end = e.Addr + e.Size;
            if (start < imagePhys + imageSize && start + bitmapBytes > imagePhys) start = Phys.AlignUp(imagePhys + imageSize, Phys.PageSize);
            if (start + bitmapBytes <= end) bitmapPhys = start;
        }
        if (bitmapPhys == 0) Panic.Fail("no room for the page-frame bitmap");
        s_bitmap = (ulong*)Phys.ToVirt(bitmapPhys);
        Internal.Runtime.Memory.Fill(s_bitmap, 0xFF, (nuint)bitmapBytes);

        for (int i = 0; i < BootInfo.MemMapCount; i++)
        {
            var e = BootInfo.MemMap[i];
            if (e.Type != MemMapEntry.Ram) continue;
            ulong start = Phys.AlignUp(e.Addr < 0x100000 ? 0x100000 : e.Addr, Phys.PageSize);
            ulong end = Phys.AlignDown(e.Addr + e.Size, Phys.PageSize);
            TotalRamFrames += e.Size / Phys.PageSize;
            for (ulong p = start; p < end; p += Phys.PageSize) MarkFree(p / Phys.PageSize);
        }
        Reserve(imagePhys, imageSize);
        Reserve(bitmapPhys, bitmapBytes);
        s_hint = 0x100000 / Phys.PageSize;
    }

    private static bool IsUsed(ulong frame) => (s_bitmap[frame >> 6] & (1UL << (int)(frame & 63))) != 0;

    private static void MarkFree(ulong frame)
    {
        if (!IsUsed(frame)) return;
        s_bitmap[frame >> 6] &= ~(1UL << (int)(frame & 63));
        FreeFrames++;
    }

    private static void MarkUsed(ulong frame)
    {
        if (IsUsed(frame)) return;
        s_bitmap[frame >> 6] |= 1UL << (int)(frame & 63);
        FreeFrames--;
    }

    /// <summary>Marks [phys, phys+size) in use (boot structures, preserved memory).</summary>
    public static void Reserve(ulong phys, ulong size)
    {
        ulong end = Phys.AlignUp(phys + size, Phys.PageSize);
        for (ulong p = Phys.AlignDown(phys, Phys.PageSize); p < end && p / Phys.PageSize < s_frames; p += Phys.PageSize)
            MarkUsed(p / Phys.PageSize);
    }

    public static bool IsFree(ulong phys) => phys / Phys.PageSize < s_frames && !IsUsed(phys / Phys.PageSize);

    /// <summary>Allocates <paramref name="count"/> contiguous zeroed frames aligned to <paramref name="alignFrames"/>; 0 when none.</summary>
    public static ulong Allocate(ulong count, ulong alignFrames = 1)
    {
        for (int pass = 0; pass < 2; pass++)
        {
            ulong f = pass == 0 ? s_hint : 0x100000 / Phys.PageSize;
            ulong limit = pass == 0 ? s_frames : s_hint;
            f = (f + alignFrames - 1) / alignFrames * alignFrames;
            while (f + count <= limit)
            {
                ulong run = 0;
                while (run < count && !IsUsed(f + run)) run++;
                if (run == count)
                {
                    for (ulong i = 0; i < count; i++) MarkUsed(f + i);
                    s_hint = f + count;
                    Internal.Runtime.Memory.Zero(Phys.ToVirt(f * Phys.PageSize), (nuint)(count * Phys.PageSize));
                    return f * Phys.PageSize;
                }
                f = (f + run + 1 + alignFrames - 1) / alignFrames * alignFrames;
            }
        }
        return 0;
    }

    public static void Free(ulong phys, ulong count)
    {
        for (ulong i = 0; i < count; i++) MarkFree(phys / Phys.PageSize + i);
    }
}
