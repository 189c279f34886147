using KhoEmu.Guest.Platform;
using KhoEmu.Kernel.Mm;

namespace KhoEmu.Kernel.Drivers;

/// <summary>
/// Intel VT-d driver, legacy mode, register-based invalidation (works on QEMU's intel-iommu and KhoEmu's model):
/// root table, one context table for bus 0, a second-level page-table hierarchy per domain with the depth CAP.SAGAW
/// allows (4 levels when 48-bit is supported, else 3), 4 KiB mappings with read/write permission, page-selective IOTLB
/// invalidation on unmap, and the fault-recording registers for diagnostics.
/// </summary>
public static unsafe class Vtd
{
    public const ulong Base = 0xFED9_0000;
    private const uint Ver = 0x00, Cap = 0x08, Gcmd = 0x18, Gsts = 0x1C, Rtaddr = 0x20, Ccmd = 0x28, Fsts = 0x34;
    private const uint Te = 1u << 31, Srtp = 1u << 30;
    public static bool Present, Enabled, Adopted;
    public static int Levels;
    public static ulong RootTable, ContextTable;
    private static uint s_frcd, s_iotlb;

    private static byte* Reg(uint off) => (byte*)Phys.ToVirt(Base) + off;
    public static uint R32(uint off) => Native.MmioRead32(Reg(off));
    public static ulong R64(uint off) => Native.MmioRead64(Reg(off));
    private static void W32(uint off, uint v) => Native.MmioWrite32(Reg(off), v);
    private static void W64(uint off, ulong v) => Native.MmioWrite64(Reg(off), v);

    public static ulong Capability => R64(Cap);
    public static ulong ExtCapability => R64(0x10);

    public static bool Init()
    {
        uint ver = R32(Ver);
        if (ver == 0 || ver == 0xFFFF_FFFF) return false;
        Present = true;
        ulong cap = Capability;
        uint sagaw = (uint)(cap >> 8) & 0x1F;
        Levels = (sagaw & 4) != 0 ? 4 : (sagaw & 2) != 0 ? 3 : 0;
        if (Levels == 0) return false;
        s_frcd = (uint)((cap >> 24) & 0x3FF) * 16;
        s_iotlb = (uint)((ExtCapability >> 8) & 0x3FF) * 16;
        if ((R32(Gsts) & Te) != 0 && KhoEmu.Kernel.Kho.Kho.Incoming)
        {
            // Translation is on: a previous kernel handed the IOMMU over with its tables preserved. Adopt them as
            // they are (no reset, no new root table): devices keep doing DMA through the same mappings.
            RootTable = R64(Rtaddr) & 0x000F_FFFF_FFFF_F000;
            ContextTable = ((ulong*)Phys.ToVirt(RootTable))[0] & 0x000F_FFFF_FFFF_F000;
            Adopted = true;
            Enabled = true;
            return true;
        }
        RootTable = PageAllocator.AllocateLow(1);
        ContextTable = PageAllocator.AllocateLow(1);
        if (RootTable == 0 || ContextTable == 0) return false;
        ((ulong*)Phys.ToVirt(RootTable))[0] = ContextTable | 1;   // bus 0
        W64(Rtaddr, RootTable);
        W32(Gcmd, (R32(Gsts) & Te) | Srtp);
        for (int i = 0; i < 1_000_000 && (R32(Gsts) & Srtp) == 0; i++) { }
        InvalidateAll();
        W32(Gcmd, Te);
        for (int i = 0; i < 1_000_000 && (R32(Gsts) & Te) == 0; i++) { }
        Enabled = (R32(Gsts) & Te) != 0;
        return Enabled;
    }

    /// <summary>Turns translation off (kexec without a preserved iommufd: the next kernel must find a quiet IOMMU).</summary>
    public static void Disable()
    {
        if (!Enabled) return;
        W32(Gcmd, 0);
        for (int i = 0; i < 1_000_000 && (R32(Gsts) & Te) != 0; i++) { }
        Enabled = false;
    }

    /// <summary>Every page-table page below <paramref name="top"/> (and the top itself), for preservation.</summary>
    public static int TablePages(ulong top, ulong* into, int max)
    {
        int n = 0;
        Collect(top, Levels, into, max, ref n);
        return n;
    }

    private static void Collect(ulong table, int level, ulong* into, int max, ref int n)
    {
        if (n < max) into[n++] = table;
        if (level == 1) return;
        var e = (ulong*)Phys.ToVirt(table);
        for (int i = 0; i < 512; i++)
            if ((e[i] & 3) != 0 && (e[i] & 0x80) == 0) Collect(e[i] & 0x000F_FFFF_FFFF_F000, level - 1, into, max, ref n);
    }

    /// <summary>Global context-cache and IOTLB invalidation (register based), waiting for completion.</summary>
    public static void InvalidateAll()
    {
        W64(Ccmd, (1UL << 63) | (1UL << 61));
        for (int i = 0; i < 1_000_000 && (R64(Ccmd) >> 63) != 0; i++) { }
        W64(s_iotlb + 8, (1UL << 63) | (1UL << 60));
        for (int i = 0; i < 1_000_000 && (R64(s_iotlb + 8) >> 63) != 0; i++) { }
    }

    /// <summary>Page-selective IOTLB invalidation of one 4 KiB IOVA in a domain.</summary>
    public static void InvalidatePage(ushort domain, ulong iova)
    {
        W64(s_iotlb, iova & ~0xFFFUL);
        W64(s_iotlb + 8, (1UL << 63) | (3UL << 60) | ((ulong)domain << 32));
        for (int i = 0; i < 1_000_000 && (R64(s_iotlb + 8) >> 63) != 0; i++) { }
    }

    /// <summary>Creates a domain for the device: a top-level table and its context entry. Returns the table's physical address.</summary>
    public static ulong Attach(ushort sourceId, ushort domain)
    {
        ulong top = PageAllocator.AllocateLow(1);
        if (top == 0) return 0;
        var ctx = (ulong*)Phys.ToVirt(ContextTable) + (sourceId & 0xFF) * 2;
        ctx[1] = (Levels == 4 ? 2UL : 1UL) | ((ulong)domain << 8);
        ctx[0] = top | 1;
        W64(Ccmd, (1UL << 63) | (3UL << 61) | ((ulong)sourceId << 16) | domain);
        for (int i = 0; i < 1_000_000 && (R64(Ccmd) >> 63) != 0; i++) { }
        return top;
    }

    /// <summary>Points the device's context entry at an existing domain's table (iommufd attach).</summary>
    public static void AttachTable(ushort sourceId, ushort domain, ulong top)
    {
        var ctx = (ulong*)Phys.ToVirt(ContextTable) + (sourceId & 0xFF) * 2;
        ctx[0] = 0;
        W64(Ccmd, (1UL << 63) | (3UL << 61) | ((ulong)sourceId << 16) | domain);
        for (int i = 0; i < 1_000_000 && (R64(Ccmd) >> 63) != 0; i++) { }
        ctx[1] = (Levels == 4 ? 2UL : 1UL) | ((ulong)domain << 8);
        ctx[0] = top | 1;
        W64(Ccmd, (1UL << 63) | (3UL << 61) | ((ulong)sourceId << 16) | domain);
        for (int i = 0; i < 1_000_000 && (R64(Ccmd) >> 63) != 0; i++) { }
    }

    /// <summary>Maps one 4 KiB page; returns false when a table could not be allocated.</summary>
    public static bool Map(ulong top, ulong iova, ulong phys, bool writable)
    {
        ulong table = top;
        for (int level = Levels; level > 1; level--)
        {
            ulong* e = (ulong*)Phys.ToVirt(table) + ((iova >> (12 + 9 * (level - 1))) & 511);
            if ((*e & 3) == 0)
            {
                ulong t = PageAllocator.AllocateLow(1);
                if (t == 0) return false;
                *e = t | 3;
            }
            table = *e & 0x000F_FFFF_FFFF_F000;
        }
        ((ulong*)Phys.ToVirt(table))[(iova >> 12) & 511] = (phys & ~0xFFFUL) | 1 | (writable ? 2UL : 0);
        return true;
    }

    public static void Unmap(ulong top, ushort domain, ulong iova)
    {
        ulong table = top;
        for (int level = Levels; level > 1; level--)
        {
            ulong e = ((ulong*)Phys.ToVirt(table))[(iova >> (12 + 9 * (level - 1))) & 511];
            if ((e & 3) == 0) return;
            table = e & 0x000F_FFFF_FFFF_F000;
        }
        ((ulong*)Phys.ToVirt(table))[(iova >> 12) & 511] = 0;
        InvalidatePage(domain, iova);
    }

    /// <summary>The pending fault record, if any: (address, source id, reason, write); cleared after reading.</summary>
    public static bool TakeFault(out ulong address, out ushort sourceId, out uint reason, out bool write)
    {
        address = 0; sourceId = 0; reason = 0; write = false;
        if ((R32(Fsts) & 2) == 0) return false;
        ulong lo = R64(s_frcd), hi = R64(s_frcd + 8);
        address = lo & ~0xFFFUL;
        sourceId = (ushort)hi;
        reason = (uint)(hi >> 32) & 0xFF;
        write = ((hi >> 62) & 1) == 0;
        W32(s_frcd + 12, 0x8000_0000);                 // clear F
        W32(Fsts, 0x3);                                // clear PPF / PFO
        return true;
    }
}
