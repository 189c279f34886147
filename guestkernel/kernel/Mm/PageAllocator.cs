using KhoEmu.Guest.Platform;
using Internal.Runtime;
using KhoEmu.Kernel.Boot;
using KhoEmu.Guest.Shared;

namespace KhoEmu.Kernel.Mm;

/// <summary>A physical range.</summary>
public struct PhysRange
{
    public ulong Addr, Size;
    public readonly bool Contains(ulong p) => p >= Addr && p - Addr < Size;
    public readonly bool Overlaps(ulong a, ulong size) => a < Addr + Size && Addr < a + size;
}

/// <summary>
/// The page-frame allocator: one bit per 4 KiB frame up to the highest RAM address (1 = in use). Only E820 RAM above
/// 1 MiB is ever free. KHO scratch areas are special: ordinary allocations never come from them (so preserved
/// memory is never inside scratch), scratch allocations (kexec images) come only from them, and during the early
/// boot of a kernel started by kexec *every* allocation comes from scratch, until KHO has read the preserved-memory
/// map and reserved what it lists (<see cref="EndEarlyBoot"/>).
/// </summary>
public static unsafe class PageAllocator
{
    public const int MaxScratch = 4;
    private static ulong* s_bitmap;
    private static ulong s_frames;
    private static ulong s_hint;
    private static PhysRange* s_scratch;
    public static int ScratchCount;
    public static bool EarlyBoot;
    public static ulong FreeFrames;
    public static ulong TotalRamFrames;
    public static ulong HighestRam;

    public static PhysRange Scratch(int i) => s_scratch[i];

    /// <summary>Builds the bitmap. With <paramref name="scratchCount"/> > 0 (a kexec boot), allocation starts in early mode.</summary>
    public static void Init(ulong imagePhys, ulong imageSize, PhysRange* scratch, int scratchCount)
    {
        s_scratch = (PhysRange*)Heap.Allocate((nuint)(sizeof(PhysRange) * MaxScratch));
        for (int i = 0; i < scratchCount && i < MaxScratch; i++) s_scratch[i] = scratch[i];
        ScratchCount = scratchCount < MaxScratch ? scratchCount : MaxScratch;
        EarlyBoot = ScratchCount > 0;

        for (int i = 0; i < BootInfo.MemMapCount; i++)
        {
            var e = BootInfo.MemMap[i];
            if (e.Type == HvmMemmapEntry.Ram && e.Addr + e.Size > HighestRam) HighestRam = e.Addr + e.Size;
        }
        s_frames = HighestRam / Phys.PageSize;
        ulong bitmapBytes = Phys.AlignUp((s_frames + 63) / 64 * 8, Phys.PageSize);

        // The bitmap goes in the first fitting RAM clear of the image (in scratch during an early kexec boot:
        // everything outside scratch may hold preserved memory).
        ulong bitmapPhys = 0;
        for (int i = 0; i < BootInfo.MemMapCount && bitmapPhys == 0; i++)
        {
            var e = BootInfo.MemMap[i];
            if (e.Type != HvmMemmapEntry.Ram) continue;
            if (EarlyBoot)
            {
                for (int s = 0; s < ScratchCount && bitmapPhys == 0; s++)
                    bitmapPhys = FitIn(s_scratch[s].Addr, s_scratch[s].Addr + s_scratch[s].Size, bitmapBytes, imagePhys, imageSize);
            }
            else bitmapPhys = FitIn(e.Addr, e.Addr + e.Size, bitmapBytes, imagePhys, imageSize);
        }
        if (bitmapPhys == 0) Panic.Fail("no room for the page-frame bitmap");
        s_bitmap = (ulong*)Phys.ToVirt(bitmapPhys);
        Memory.Fill(s_bitmap, 0xFF, (nuint)bitmapBytes);

        for (int i = 0; i < BootInfo.MemMapCount; i++)
        {
            var e = BootInfo.MemMap[i];
            if (e.Type != HvmMemmapEntry.Ram) continue;
            ulong start = Phys.AlignUp(e.Addr < 0x100000 ? 0x100000 : e.Addr, Phys.PageSize);
            ulong end = Phys.AlignDown(e.Addr + e.Size, Phys.PageSize);
            TotalRamFrames += e.Size / Phys.PageSize;
            if (end > start) SetRange(start / Phys.PageSize, end / Phys.PageSize, used: false);
        }
        Reserve(imagePhys, imageSize);
        Reserve(bitmapPhys, bitmapBytes);
        s_hint = 0x100000 / Phys.PageSize;
    }

    private static ulong FitIn(ulong from, ulong to, ulong bytes, ulong imagePhys, ulong imageSize)
    {
        ulong start = Phys.AlignUp(from < 0x100000 ? 0x100000 : from, Phys.PageSize);
        if (start < imagePhys + imageSize && start + bytes > imagePhys) start = Phys.AlignUp(imagePhys + imageSize, Phys.PageSize);
        return start + bytes <= to ? start : 0;
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
        ulong from = Phys.AlignDown(phys, Phys.PageSize) / Phys.PageSize;
        ulong to = Phys.AlignUp(phys + size, Phys.PageSize) / Phys.PageSize;
        if (to > s_frames) to = s_frames;
        if (to > from) SetRange(from, to, used: true);
    }

    /// <summary>Sets frames [from, to) used or free, a 64-frame word at a time where it can (large RAM, large blocks).</summary>
    private static void SetRange(ulong from, ulong to, bool used)
    {
        ulong f = from;
        while (f < to && (f & 63) != 0) { if (used) MarkUsed(f); else MarkFree(f); f++; }
        while (f + 64 <= to)
        {
            ulong word = s_bitmap[f >> 6];
            int changed = used ? 64 - PopCount(word) : PopCount(word);
            s_bitmap[f >> 6] = used ? ulong.MaxValue : 0;
            if (used) FreeFrames -= (ulong)changed; else FreeFrames += (ulong)changed;
            f += 64;
        }
        while (f < to) { if (used) MarkUsed(f); else MarkFree(f); f++; }
    }

    private static int PopCount(ulong v)
    {
        v -= (v >> 1) & 0x5555_5555_5555_5555UL;
        v = (v & 0x3333_3333_3333_3333UL) + ((v >> 2) & 0x3333_3333_3333_3333UL);
        v = (v + (v >> 4)) & 0x0F0F_0F0F_0F0F_0F0FUL;
        return (int)((v * 0x0101_0101_0101_0101UL) >> 56);
    }

    public static bool IsFree(ulong phys) => phys / Phys.PageSize < s_frames && !IsUsed(phys / Phys.PageSize);

    public static bool IsRam(ulong phys, ulong size)
    {
        for (int i = 0; i < BootInfo.MemMapCount; i++)
        {
            var e = BootInfo.MemMap[i];
            if (e.Type == HvmMemmapEntry.Ram && phys >= e.Addr && size <= e.Addr + e.Size - phys) return true;
        }
        return false;
    }

    public static bool InScratch(ulong phys, ulong size)
    {
        for (int i = 0; i < ScratchCount; i++)
            if (s_scratch[i].Overlaps(phys, size)) return true;
        return false;
    }

    /// <summary>Declares a scratch area (first kernel: KHO reserves it at boot; its frames stay free for kexec).</summary>
    public static bool AddScratch(ulong phys, ulong size)
    {
        if (ScratchCount == MaxScratch) return false;
        s_scratch[ScratchCount].Addr = phys;
        s_scratch[ScratchCount].Size = size;
        ScratchCount++;
        return true;
    }

    /// <summary>KHO has reserved every preserved block: ordinary allocations may use all RAM outside scratch again.</summary>
    public static void EndEarlyBoot() => EarlyBoot = false;

    /// <summary>Allocates <paramref name="count"/> contiguous zeroed frames aligned to <paramref name="alignFrames"/>; 0 when none.</summary>
    public static ulong Allocate(ulong count, ulong alignFrames = 1)
    {
        if (EarlyBoot) return AllocateScratch(count, alignFrames);
        for (int pass = 0; pass < 2; pass++)
        {
            ulong from = pass == 0 ? s_hint : 0x100000 / Phys.PageSize;
            ulong limit = pass == 0 ? s_frames : s_hint + count;
            ulong f = Search(from, limit > s_frames ? s_frames : limit, count, alignFrames, excludeScratch: true);
            if (f != ulong.MaxValue)
            {
                s_hint = f + count;
                return Take(f, count);
            }
        }
        return 0;
    }

    /// <summary>Allocates below 4 GiB (what the next kernel must read before it has mapped all of RAM); 0 when none.</summary>
    public static ulong AllocateLow(ulong count)
    {
        if (EarlyBoot) return AllocateScratch(count);
        ulong limit = 0x1_0000_0000UL / Phys.PageSize;
        ulong f = Search(0x100000 / Phys.PageSize, limit < s_frames ? limit : s_frames, count, 1, excludeScratch: true);
        return f == ulong.MaxValue ? 0 : Take(f, count);
    }

    /// <summary>Allocates inside a scratch area (kexec segments, early boot after kexec); 0 when none fits.</summary>
    public static ulong AllocateScratch(ulong count, ulong alignFrames = 1)
    {
        for (int i = 0; i < ScratchCount; i++)
        {
            ulong from = s_scratch[i].Addr / Phys.PageSize, to = (s_scratch[i].Addr + s_scratch[i].Size) / Phys.PageSize;
            ulong f = Search(from, to, count, alignFrames, excludeScratch: false);
            if (f != ulong.MaxValue) return Take(f, count);
        }
        return 0;
    }

    private static ulong Take(ulong f, ulong count)
    {
        for (ulong i = 0; i < count; i++) MarkUsed(f + i);
        Native.MemZero(Phys.ToVirt(f * Phys.PageSize), count * Phys.PageSize);
        return f * Phys.PageSize;
    }

    private static ulong Search(ulong from, ulong limit, ulong count, ulong alignFrames, bool excludeScratch)
    {
        ulong f = (from + alignFrames - 1) / alignFrames * alignFrames;
        while (f + count <= limit)
        {
            ulong run = 0;
            while (run < count && !IsUsed(f + run) && !(excludeScratch && InScratch((f + run) * Phys.PageSize, Phys.PageSize))) run++;
            if (run == count) return f;
            f = (f + run + 1 + alignFrames - 1) / alignFrames * alignFrames;
        }
        return ulong.MaxValue;
    }

    public static void Free(ulong phys, ulong count)
    {
        for (ulong i = 0; i < count; i++) MarkFree(phys / Phys.PageSize + i);
    }
}
