using Internal.Runtime;
using KhoEmu.Guest.Platform;
using KhoEmu.Guest.Shared;
using KhoEmu.Kernel.Boot;
using KhoEmu.Kernel.Fs;
using KhoEmu.Kernel.Mm;

namespace KhoEmu.Kernel.Kho;

/// <summary>
/// Kexec HandOver (the kho-v1 format of Linux 6.19). Outgoing: scratch areas reserved at boot, a tracker of
/// preserved blocks (2^order pages each), named sub-FDTs, and at kexec the root FDT plus the preserved-memory map
/// (linked one-page chunks of per-order bitmaps) and a 32-byte descriptor. Incoming: the descriptor arrives as
/// a start-info module named "khoemu-kho"; the kernel allocates only from scratch until <see cref="ReadIncoming"/>
/// has reserved every preserved block; each block can then be restored exactly once.
/// </summary>
public static unsafe class Kho
{
    public const int MaxOrder = 20;
    public const ulong BitsPerBitmap = 4096 * 8;
    public const int EntriesPerChunk = 255;
    public const string ModuleName = "khoemu-kho";
    public const ulong DefaultScratch = 64UL << 20;

    /// <summary>One bitmap page: blocks of 2^order pages from <see cref="Start"/>, bit b = Start + (b << (order+12)).</summary>
    private struct Track
    {
        public int Order;
        public ulong Start;
        public ulong* Bits;        // outgoing: a kernel page; incoming: a copy in the heap
        public ulong BitmapPhys;   // outgoing: the page itself
    }

    private const int MaxTracks = 4096;
    private static Track* s_out;
    private static int s_outCount;
    private static Track* s_in;
    private static int s_inCount;

    private const int MaxSubtrees = 16;
    private static readonly string?[] s_subtreeNames = new string?[MaxSubtrees];
    private static readonly ulong[] s_subtreeFdt = new ulong[MaxSubtrees];
    private static int s_subtreeCount;

    public static bool Incoming;                 // this kernel was started by a kexec with KHO data
    public static ulong IncomingFdt;             // physical address of the incoming root FDT, 0 if none
    public static ulong IncomingBlocks, IncomingBytes, RestoredBlocks;
    public static string? IncomingError;         // why the incoming map could not be (fully) read
    public static ulong FinalizedDescriptor;

    public static void InitTracking()
    {
        s_out = (Track*)Heap.Allocate((nuint)(sizeof(Track) * MaxTracks));
        s_in = (Track*)Heap.Allocate((nuint)(sizeof(Track) * MaxTracks));
    }

    private static ulong Coverage(int order) => BitsPerBitmap << (order + 12);

    // ---- outgoing ---------------------------------------------------------------------------------------------

    /// <summary>First kernel: reserves the scratch area (size from kho_scratch=, default 64 MiB) below 4 GiB.</summary>
    public static bool ReserveScratch()
    {
        ulong size = Phys.AlignUp(BootInfo.GetSize("kho_scratch", DefaultScratch), 2UL << 20);
        ulong p = PageAllocator.Allocate(size / Phys.PageSize, 512);
        if (p == 0 || p + size > 0x1_0000_0000UL) return false;
        PageAllocator.Free(p, size / Phys.PageSize);
        return PageAllocator.AddScratch(p, size);
    }

    private static Track* FindTrack(Track* tracks, int count, int order, ulong start)
    {
        for (int i = 0; i < count; i++)
            if (tracks[i].Order == order && tracks[i].Start == start) return &tracks[i];
        return null;
    }

    /// <summary>Preserves a block of 2^order pages at <paramref name="phys"/>: 0, -EINVAL (misaligned, in scratch, not RAM), -EEXIST, -ENOMEM.</summary>
    public static long Preserve(ulong phys, int order)
    {
        if (order < 0 || order > MaxOrder) return -Errno.EINVAL;
        ulong size = Phys.PageSize << order;
        if ((phys & (size - 1)) != 0 || !PageAllocator.IsRam(phys, size)) return -Errno.EINVAL;
        if (PageAllocator.InScratch(phys, size)) return -Errno.EINVAL;
        ulong start = phys & ~(Coverage(order) - 1);
        var t = FindTrack(s_out, s_outCount, order, start);
        if (t == null)
        {
            if (s_outCount == MaxTracks) return -Errno.ENOMEM;
            ulong page = PageAllocator.Allocate(1);
            if (page == 0) return -Errno.ENOMEM;
            t = &s_out[s_outCount++];
            t->Order = order;
            t->Start = start;
            t->BitmapPhys = page;
            t->Bits = (ulong*)Phys.ToVirt(page);
        }
        ulong bit = (phys - start) >> (order + 12);
        if ((t->Bits[bit >> 6] & (1UL << (int)(bit & 63))) != 0) return -Errno.EEXIST;
        t->Bits[bit >> 6] |= 1UL << (int)(bit & 63);
        return 0;
    }

    public static long Unpreserve(ulong phys, int order)
    {
        if (order < 0 || order > MaxOrder) return -Errno.EINVAL;
        ulong start = phys & ~(Coverage(order) - 1);
        var t = FindTrack(s_out, s_outCount, order, start);
        if (t == null) return -Errno.ENOENT;
        ulong bit = (phys - start) >> (order + 12);
        if ((t->Bits[bit >> 6] & (1UL << (int)(bit & 63))) == 0) return -Errno.ENOENT;
        t->Bits[bit >> 6] &= ~(1UL << (int)(bit & 63));
        return 0;
    }

    /// <summary>Allocates 2^order pages (enough for <paramref name="bytes"/>) and preserves them; 0 on failure.</summary>
    public static ulong AllocPreserved(ulong bytes, out int order)
    {
        order = 0;
        while ((Phys.PageSize << order) < bytes) order++;
        ulong p = PageAllocator.Allocate(1UL << order, 1UL << order);
        if (p == 0) return 0;
        if (Preserve(p, order) != 0)
        {
            PageAllocator.Free(p, 1UL << order);
            return 0;
        }
        return p;
    }

    public static void FreePreserved(ulong phys, int order)
    {
        Unpreserve(phys, order);
        PageAllocator.Free(phys, 1UL << order);
    }

    /// <summary>Adds (or updates) child node <paramref name="name"/> (a literal: subsystems pass their constant name) with property fdt = <paramref name="fdtPhys"/>.</summary>
    public static long AddSubtree(string name, ulong fdtPhys)
    {
        for (int i = 0; i < s_subtreeCount; i++)
            if ((object?)s_subtreeNames[i] == (object)name) { s_subtreeFdt[i] = fdtPhys; return 0; }
        if (s_subtreeCount == MaxSubtrees) return -Errno.ENOSPC;
        s_subtreeNames[s_subtreeCount] = name;
        s_subtreeFdt[s_subtreeCount] = fdtPhys;
        s_subtreeCount++;
        return 0;
    }

    /// <summary>
    /// Writes the preserved-memory map and the root FDT; returns the physical address of the 32-byte descriptor
    /// {fdt_addr, fdt_size, scratch_addr, scratch_size} (scratch_addr → {addr, size} pairs), or 0 on failure.
    /// </summary>
    public static ulong Finalize()
    {
        // Chunks: one order per chunk, up to 255 bitmaps each, linked by physical address.
        ulong first = 0;
        ulong* prevNext = null;
        int chunks = 0;
        bool truncate = Luo.FaultInjection.TruncateMapNow();
        for (int order = 0; order <= MaxOrder; order++)
        {
            ulong* chunk = null;
            for (int i = 0; i < s_outCount; i++)
            {
                if (s_out[i].Order != order || IsEmpty(s_out[i].Bits)) continue;
                if (chunk == null || *(uint*)((byte*)chunk + 12) == EntriesPerChunk)
                {
                    if (truncate && chunks == 1) break;      // fault injection: the list ends after one chunk
                    chunks++;
                    ulong page = PageAllocator.Allocate(1);
                    if (page == 0) return 0;
                    chunk = (ulong*)Phys.ToVirt(page);
                    *(uint*)((byte*)chunk + 8) = (uint)order;
                    if (prevNext == null) first = page; else *prevNext = page;
                    prevNext = chunk;
                }
                uint n = *(uint*)((byte*)chunk + 12);
                chunk[2 + n * 2] = s_out[i].Start;
                chunk[3 + n * 2] = s_out[i].BitmapPhys;
                *(uint*)((byte*)chunk + 12) = n + 1;
            }
        }

        ulong fdtPage = PageAllocator.Allocate(1);
        ulong descPage = PageAllocator.AllocateLow(1);      // read by the next kernel before it maps all RAM
        if (fdtPage == 0 || descPage == 0) return 0;
        var w = FdtWriter.Create((byte*)Phys.ToVirt(fdtPage), (int)Phys.PageSize);
        w.BeginNode("");
        w.PropertyString("compatible", "kho-v1");
        w.PropertyU64("preserved-memory-map", first);
        for (int i = 0; i < s_subtreeCount; i++)
        {
            w.BeginNode(s_subtreeNames[i]!);
            w.PropertyU64("fdt", s_subtreeFdt[i]);
            w.EndNode();
        }
        w.EndNode();
        if (w.Finish() < 0) return 0;

        var d = (ulong*)Phys.ToVirt(descPage);
        d[0] = fdtPage;
        d[1] = Phys.PageSize;
        d[2] = descPage + 64;
        d[3] = (ulong)PageAllocator.ScratchCount * 16;
        for (int i = 0; i < PageAllocator.ScratchCount; i++)
        {
            d[8 + i * 2] = PageAllocator.Scratch(i).Addr;
            d[9 + i * 2] = PageAllocator.Scratch(i).Size;
        }
        FinalizedDescriptor = descPage;
        return descPage;
    }

    private static bool IsEmpty(ulong* bits)
    {
        for (int i = 0; i < 512; i++) if (bits[i] != 0) return false;
        return true;
    }

    public static int OutgoingBlocks()
    {
        int n = 0;
        for (int i = 0; i < s_outCount; i++)
            for (int w = 0; w < 512; w++) n += PopCount(s_out[i].Bits[w]);
        return n;
    }

    private static int PopCount(ulong v)
    {
        int n = 0;
        while (v != 0) { v &= v - 1; n++; }
        return n;
    }

    // ---- incoming ---------------------------------------------------------------------------------------------

    /// <summary>Looks for the KHO module in the start info; fills the scratch areas for the early allocator.</summary>
    public static int FindIncoming(PhysRange* scratch, int max, out ulong descriptor)
    {
        descriptor = 0;
        if (BootInfo.Info.NrModules == 0 || BootInfo.Info.ModlistPaddr == 0) return 0;
        var mods = (HvmModlistEntry*)Phys.ToVirt(BootInfo.Info.ModlistPaddr);
        for (uint i = 0; i < BootInfo.Info.NrModules && i < 8; i++)
        {
            ulong cmd = mods[i].CmdlinePaddr;
            if (cmd == 0 || !Fdt.NameEquals((byte*)Phys.ToVirt(cmd), 64, ModuleName)) continue;
            descriptor = mods[i].Paddr;
            var d = (ulong*)Phys.ToVirt(descriptor);
            ulong count = d[3] / 16;
            var pairs = (ulong*)Phys.ToVirt(d[2]);
            int n = 0;
            for (ulong k = 0; k < count && n < max; k++)
            {
                scratch[n].Addr = pairs[k * 2];
                scratch[n].Size = pairs[k * 2 + 1];
                n++;
            }
            return n;
        }
        return 0;
    }

    /// <summary>
    /// Reads the incoming root FDT and preserved-memory map, reserving every listed block (and the metadata it still
    /// needs), then lets ordinary allocation use the rest of RAM. Problems are recorded in <see cref="IncomingError"/>;
    /// whatever could be read stays reserved.
    /// </summary>
    public static void ReadIncoming(ulong descriptor)
    {
        Incoming = true;
        var d = (ulong*)Phys.ToVirt(descriptor);
        PageAllocator.Reserve(descriptor, Phys.PageSize);
        ulong fdt = d[0], fdtSize = d[1];
        if (fdtSize < Fdt.HeaderSize || fdtSize > 1 << 20 || !PageAllocator.IsRam(fdt, fdtSize) || PageAllocator.InScratch(fdt, fdtSize))
        {
            IncomingError = "KHO descriptor: root FDT address or size out of range";
            PageAllocator.EndEarlyBoot();
            return;
        }
        PageAllocator.Reserve(fdt, fdtSize);
        IncomingFdt = fdt;
        int err = FdtReader.Open((byte*)Phys.ToVirt(fdt), fdtSize, out var r);
        if (err != 0) { IncomingError = "KHO root FDT is malformed"; PageAllocator.EndEarlyBoot(); return; }
        if (!r.StringEquals(0, "compatible", "kho-v1")) { IncomingError = "KHO root FDT is not compatible \"kho-v1\""; PageAllocator.EndEarlyBoot(); return; }
        // Sub-FDTs stay reserved for their subsystems.
        for (int c = r.FirstChild(0); c >= 0; c = r.NextSibling(c))
            if (r.GetU64(c, "fdt", out ulong sub) && PageAllocator.IsRam(sub, Phys.PageSize) && !PageAllocator.InScratch(sub, Phys.PageSize))
                PageAllocator.Reserve(sub, Phys.PageSize);
        if (!r.GetU64(0, "preserved-memory-map", out ulong chunk))
        {
            IncomingError = "KHO root FDT has no preserved-memory-map";
            PageAllocator.EndEarlyBoot();
            return;
        }
        int chunks = 0;
        while (chunk != 0)
        {
            if (++chunks > 1 << 16 || (chunk & 0xFFF) != 0 || !PageAllocator.IsRam(chunk, Phys.PageSize) || PageAllocator.InScratch(chunk, Phys.PageSize))
            {
                IncomingError = "KHO memory map: bad or looping chunk list";
                break;
            }
            var c = (ulong*)Phys.ToVirt(chunk);
            uint order = *(uint*)((byte*)c + 8), count = *(uint*)((byte*)c + 12);
            if (order > MaxOrder || count > EntriesPerChunk) { IncomingError = "KHO memory map: bad chunk header"; break; }
            for (uint i = 0; i < count; i++)
            {
                ulong start = c[2 + i * 2], bitmap = c[3 + i * 2];
                if ((start & (Coverage((int)order) - 1)) != 0 || !PageAllocator.IsRam(bitmap, Phys.PageSize) || s_inCount == MaxTracks)
                {
                    IncomingError = "KHO memory map: bad bitmap entry";
                    continue;
                }
                var t = &s_in[s_inCount++];
                t->Order = (int)order;
                t->Start = start;
                t->Bits = (ulong*)Heap.Allocate(4096);
                Native.MemCopy(t->Bits, Phys.ToVirt(bitmap), 4096);
                ReserveBlocks(t);
            }
            chunk = c[0];
        }
        PageAllocator.EndEarlyBoot();
    }

    private static void ReserveBlocks(Track* t)
    {
        ulong size = Phys.PageSize << t->Order;
        for (ulong w = 0; w < 512; w++)
        {
            ulong bits = t->Bits[w];
            while (bits != 0)
            {
                int b = 0;
                while ((bits & (1UL << b)) == 0) b++;
                bits &= ~(1UL << b);
                ulong phys = t->Start + ((w * 64 + (ulong)b) << (t->Order + 12));
                if (!PageAllocator.IsRam(phys, size) || PageAllocator.InScratch(phys, size))
                {
                    // A block that is not RAM, or overlaps scratch, cannot be trusted: drop it from the incoming set.
                    t->Bits[w] &= ~(1UL << b);
                    IncomingError = "KHO memory map lists a block outside RAM or inside scratch";
                    continue;
                }
                PageAllocator.Reserve(phys, size);
                IncomingBlocks++;
                IncomingBytes += size;
            }
        }
    }

    /// <summary>Claims an incoming preserved block; true exactly once per block listed in the map.</summary>
    public static bool Restore(ulong phys, int order)
    {
        if (order < 0 || order > MaxOrder) return false;
        ulong start = phys & ~(Coverage(order) - 1);
        var t = FindTrack(s_in, s_inCount, order, start);
        if (t == null || (phys & ((Phys.PageSize << order) - 1)) != 0) return false;
        ulong bit = (phys - start) >> (order + 12);
        if ((t->Bits[bit >> 6] & (1UL << (int)(bit & 63))) == 0) return false;
        t->Bits[bit >> 6] &= ~(1UL << (int)(bit & 63));
        RestoredBlocks++;
        Oracle.Restored(phys, order);
        return true;
    }

    public static ulong QuarantinedBlocks;

    /// <summary>
    /// A block some handover metadata names but the preserved-memory map does not list (a truncated map): keep it
    /// from being allocated if it is still free, so a broken item's memory is not silently reused.
    /// </summary>
    public static void Quarantine(ulong phys, int order)
    {
        if (order < 0 || order > MaxOrder) return;
        ulong size = Phys.PageSize << order;
        if ((phys & (size - 1)) != 0 || !PageAllocator.IsRam(phys, size) || PageAllocator.InScratch(phys, size)) return;
        if (!PageAllocator.IsFree(phys)) return;
        PageAllocator.Reserve(phys, size);
        QuarantinedBlocks++;
    }

    /// <summary>Incoming blocks nobody restored (their memory stays reserved).</summary>
    public static ulong UnrestoredBlocks() => IncomingBlocks - RestoredBlocks;

    /// <summary>The incoming sub-FDT named <paramref name="name"/>: its physical address, or 0.</summary>
    public static ulong FindSubtree(string name)
    {
        if (IncomingFdt == 0) return 0;
        if (FdtReader.Open((byte*)Phys.ToVirt(IncomingFdt), Phys.PageSize, out var r) != 0) return 0;
        int node = r.FindChild(0, name);
        return node >= 0 && r.GetU64(node, "fdt", out ulong sub) ? sub : 0;
    }
}
