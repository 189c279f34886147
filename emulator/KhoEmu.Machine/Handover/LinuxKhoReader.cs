using KhoEmu.Guest.Shared;
using KhoEmu.Machine.Boot;
using KhoEmu.Memory;

namespace KhoEmu.Machine.Handover;

/// <summary>
/// Reads Linux 7.3's x86 handover (include/linux/kho/abi/kexec_handover.h, arch/x86/include/uapi/asm/setup_data.h)
/// from guest memory: boot_params' setup_data chain → the SETUP_KEXEC_KHO entry's struct kho_data {fdt_addr,
/// fdt_size, scratch_addr, scratch_size} → the scratch array {addr, size}[] and the root FDT (compatible "kho-v4",
/// preserved-memory-map = u64, one child per subsystem with preserved-data = u64 and blob-size = u64). The map is a
/// 6-level radix tree of pages: levels 5..1 are tables of 512 physical addresses, level 0 a 32768-bit bitmap whose bit
/// b under key prefix k is the key k | b; a key is the order bit 1 << (52 - order) | phys >> (12 + order). All walks
/// are bounded and every pointer is checked, so malformed data ends in <see cref="KhoHandover.Problems"/>.
/// </summary>
public static unsafe class LinuxKhoReader
{
    public const uint SetupKexecKho = 10;
    public const string Compatible = "kho-v4";
    private const int TreeDepth = 6, TableLog2 = 9, BitmapLog2 = 15;
    private const int MaxSetupData = 64, MaxScratch = 1024, MaxNodes = 1 << 16;
    public const int MaxBlocks = 1 << 22;

    /// <summary>
    /// The kho_data address when <paramref name="bootParams"/> is a boot_params ("HdrS" at 0x202) whose setup_data
    /// chain holds a SETUP_KEXEC_KHO entry; 0 otherwise. Cheap enough to ask at every newly decoded block.
    /// </summary>
    public static ulong FindKhoData(GuestView g, ulong bootParams)
    {
        if (!g.U32(bootParams + BzImageHeader.OffHeader, out uint magic) || magic != BzImageHeader.HdrSMagic) return 0;
        if (!g.U64(bootParams + BzImageHeader.OffSetupData, out ulong sd)) return 0;
        for (int i = 0; sd != 0 && i < MaxSetupData; i++)
        {
            // struct setup_data { u64 next; u32 type; u32 len; u8 data[]; }
            byte* p = g.Range(sd, 16);
            if (p == null) return 0;
            if (*(uint*)(p + 8) == SetupKexecKho && *(uint*)(p + 12) >= 32) return sd + 16;
            sd = *(ulong*)p;
        }
        return 0;
    }

    /// <summary>Reads everything a kernel entered with RSI = <paramref name="bootParams"/> was handed.</summary>
    public static KhoHandover Read(PhysicalMemory memory, ulong bootParams, ulong entry)
    {
        var g = new GuestView(memory);
        var h = new KhoHandover { BootData = bootParams, KernelEntry = entry };
        if (g.U32(bootParams + BzImageHeader.OffInitSize, out uint initSize) && entry >= BzImageHeader.Entry64Offset)
            h.KernelImage = new KhoRange(entry - BzImageHeader.Entry64Offset, initSize);
        ulong kd = FindKhoData(g, bootParams);
        if (kd == 0) { h.Problem("boot_params has no SETUP_KEXEC_KHO setup_data"); return h; }
        g.U64(kd, out ulong fdt);
        g.U64(kd + 8, out ulong fdtSize);
        g.U64(kd + 16, out ulong scratchAddr);
        g.U64(kd + 24, out ulong scratchSize);
        ReadScratch(g, h, scratchAddr, scratchSize);
        ReadFdt(g, h, fdt, fdtSize);
        return h;
    }

    private static void ReadScratch(GuestView g, KhoHandover h, ulong addr, ulong size)
    {
        if (size % 16 != 0 || size / 16 > MaxScratch) { h.Problem($"scratch array size {size} is not a sane multiple of 16"); return; }
        byte* p = g.Range(addr, size);
        if (p == null) { h.Problem($"scratch array 0x{addr:x} (+{size}) is outside RAM"); return; }
        for (ulong i = 0; i < size / 16; i++)
        {
            ulong a = *(ulong*)(p + 16 * i), s = *(ulong*)(p + 16 * i + 8);
            if (s != 0) h.Scratch.Add(new KhoRange(a, s));
        }
        h.Own(addr, size, "KHO scratch array");
    }

    private static void ReadFdt(GuestView g, KhoHandover h, ulong fdt, ulong fdtSize)
    {
        h.FdtAddress = fdt;
        h.FdtSize = fdtSize;
        byte* blob = fdtSize is 0 or > 1 << 20 ? null : g.Range(fdt, fdtSize);
        if (blob == null) { h.Problem($"root FDT 0x{fdt:x} (+{fdtSize}) is outside RAM"); return; }
        int err = FdtReader.Open(blob, fdtSize, out var r);
        if (err != Fdt.Ok) { h.Problem($"root FDT 0x{fdt:x}: {Fdt.ErrorText(err)}"); return; }
        h.Format = StringProperty(r, 0, "compatible") ?? "";
        if (h.Format != Compatible) h.Problem($"root FDT compatible is '{h.Format}', not '{Compatible}'");
        if (!r.GetU64(0, "preserved-memory-map", out ulong root)) { h.Problem("root FDT has no 8-byte preserved-memory-map"); return; }
        h.MapRoot = root;
        WalkTree(g, h, root);
        h.Own(fdt, fdtSize, "KHO root FDT");
        for (int child = r.FirstChild(0); child >= 0; child = r.NextSibling(child))
        {
            byte* name = r.NodeName(child, out int nameLength);
            string n = GuestView.Text(name, nameLength);
            if (!r.GetU64(child, "preserved-data", out ulong data)) { h.Problem($"sub-tree '{n}' has no preserved-data"); continue; }
            r.GetU64(child, "blob-size", out ulong size);
            string? compat = n == MetadataName ? Metadata(g, data, size) : BlobCompatible(g, data, size);
            h.Subtrees.Add(new KhoSubtree(n, data, size, compat));
            h.Own(data, size, $"sub-tree '{n}'");
            if (n == LuoReader.EntryName) LuoReader.Read(g, h, data, size);
            else if (compat == "kho-test-v1") KhoTestReader.Read(g, h, data, size);
        }
    }

    /// <summary>The kexec-metadata sub-tree (kexec_metadata.h): packed {u32 version; char previous_release[65];
    /// u32 kexec_count}.</summary>
    public const string MetadataName = "kexec-metadata";

    private static string? Metadata(GuestView g, ulong data, ulong size)
    {
        byte* p = size >= 73 ? g.Range(data, 73) : null;
        if (p == null) return null;
        return $"version {*(uint*)p}, previous release {GuestView.Text(p + 4, 65)}, kexec count {*(uint*)(p + 69)}";
    }

    /// <summary>A string property's value (first string), or null.</summary>
    internal static string? StringProperty(FdtReader r, int node, string name)
    {
        if (!r.GetProperty(node, name, out byte* v, out int len) || len == 0) return null;
        return GuestView.Text(v, len);
    }

    /// <summary>The blob's compatible: an FDT's root compatible, or the leading string of a raw blob (luo_ser).</summary>
    private static string? BlobCompatible(GuestView g, ulong data, ulong size)
    {
        if (size == 0 || size > 1 << 24) return null;
        byte* p = g.Range(data, size);
        if (p == null) return null;
        if (FdtReader.Open(p, size, out var r) == Fdt.Ok) return StringProperty(r, 0, "compatible");
        // A raw blob that starts with a printable NUL-terminated name (luo_ser's "luo-v5").
        int max = (int)Math.Min(size, 48), n = 0;
        while (n < max && p[n] is >= 0x20 and < 0x7F) n++;
        return n > 0 && n < max && p[n] == 0 ? GuestView.Text(p, n) : null;
    }

    /// <summary>Walks the radix tree from its level-5 root, collecting blocks and the tree's own pages.</summary>
    public static void WalkTree(GuestView g, KhoHandover h, ulong root)
    {
        var visited = new HashSet<ulong>();
        var stack = new Stack<(ulong Node, int Level, ulong Key)>();
        stack.Push((root, TreeDepth - 1, 0));
        while (stack.Count > 0)
        {
            var (node, level, key) = stack.Pop();
            if ((node & 0xFFF) != 0) { h.Problem($"map node 0x{node:x} is not page aligned"); continue; }
            byte* p = g.Range(node, 4096);
            if (p == null) { h.Problem($"map node 0x{node:x} (level {level}) is outside RAM"); continue; }
            if (!visited.Add(node)) { h.Problem($"map node 0x{node:x} is reached twice (a loop or a shared node)"); continue; }
            if (visited.Count > MaxNodes) { h.Problem($"map has more than {MaxNodes} nodes; walk stopped"); return; }
            h.MapPages.Add(node);
            h.Own(node, 4096, level == 0 ? "KHO map leaf" : "KHO map node");
            if (level == 0) { if (!Leaf(h, (ulong*)p, key)) return; continue; }
            int shift = (level - 1) * TableLog2 + BitmapLog2;
            for (int i = 511; i >= 0; i--)
            {
                ulong child = ((ulong*)p)[i];
                if (child != 0) stack.Push((child, level - 1, key | ((ulong)i << shift)));
            }
        }
    }

    private static bool Leaf(KhoHandover h, ulong* bits, ulong key)
    {
        for (int w = 0; w < 512; w++)
        {
            ulong word = bits[w];
            while (word != 0)
            {
                int b = System.Numerics.BitOperations.TrailingZeroCount(word);
                word &= word - 1;
                ulong k = key | (uint)(w * 64 + b);
                int orderBit = 63 - System.Numerics.BitOperations.LeadingZeroCount(k);
                int order = 52 - orderBit;
                if (order is < 0 or > 40) { h.Problem($"map key 0x{k:x} has no valid order bit"); continue; }
                ulong phys = (k & ((1UL << orderBit) - 1)) << (12 + order);
                if (h.Blocks.Count >= MaxBlocks) { h.Problem($"map lists more than {MaxBlocks} blocks; walk stopped"); return false; }
                h.Blocks.Add(new KhoBlock(phys, order));
            }
        }
        return true;
    }
}
