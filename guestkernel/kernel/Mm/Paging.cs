using KhoEmu.Kernel.Arch;

using KhoEmu.Guest.Platform;
namespace KhoEmu.Kernel.Mm;

/// <summary>
/// The kernel's page tables: the direct map (low 4 GiB and all RAM, 2 MiB pages, no execute), the kernel image at
/// its link address (shared with the boot tables) and, per address space, 4 KiB user pages in the lower half.
/// Page 0 is never mapped, so null dereferences fault.
/// </summary>
public static unsafe class Paging
{
    public const ulong Present = 1, Writable = 2, User = 4, Large = 0x80, NoExecute = 1UL << 63;
    private const ulong AddrMask = 0x000F_FFFF_FFFF_F000;
    public static ulong KernelPml4;
    public static bool NxSupported;

    private static ulong* Table(ulong entry) => (ulong*)Phys.ToVirt(entry & AddrMask);

    /// <summary>Builds the kernel tables and switches CR3 to them.</summary>
    public static void Init(ulong highestRam)
    {
        uint* r = stackalloc uint[4];
        Native.Cpuid(0x8000_0001, 0, r);
        NxSupported = (r[3] & (1u << 20)) != 0;
        ulong nx = NxSupported ? NoExecute : 0;

        KernelPml4 = PageAllocator.Allocate(1);
        var pml4 = (ulong*)Phys.ToVirt(KernelPml4);
        ulong top = highestRam > 0x1_0000_0000UL ? highestRam : 0x1_0000_0000UL;
        for (ulong pa = 0; pa < top; pa += 1UL << 21)
        {
            ulong* pd = Walk(pml4, Phys.DirectMapBase + pa, 2, Writable, out _);
            pd[((Phys.DirectMapBase + pa) >> 21) & 511] = pa | Present | Writable | Large | nx;
        }
        // The kernel image mapping: reuse the boot tables' top-level entry (it maps the image at its link address).
        var boot = (ulong*)Phys.ToVirt(Native.ReadCr3() & AddrMask);
        pml4[511] = boot[511];
        Native.WriteCr3(KernelPml4);
    }

    /// <summary>
    /// Returns the table at <paramref name="level"/> (3 = PDPT, 2 = PD, 1 = PT) covering <paramref name="va"/>,
    /// creating missing intermediate tables with <paramref name="flags"/>. <paramref name="created"/> counts new tables.
    /// </summary>
    public static ulong* Walk(ulong* pml4, ulong va, int level, ulong flags, out int created)
    {
        created = 0;
        ulong* table = pml4;
        for (int l = 4; l > level; l--)
        {
            ulong* e = &table[(va >> (12 + 9 * (l - 1))) & 511];
            if ((*e & Present) == 0)
            {
                ulong t = PageAllocator.Allocate(1);
                if (t == 0) return null;
                *e = t | Present | Writable | (flags & User);
                created++;
            }
            else if ((flags & User) != 0) *e |= User;
            table = Table(*e);
        }
        return table;
    }

    /// <summary>Maps one 4 KiB page in <paramref name="pml4Phys"/>.</summary>
    public static bool Map(ulong pml4Phys, ulong va, ulong pa, ulong flags)
    {
        ulong* pt = Walk((ulong*)Phys.ToVirt(pml4Phys), va, 1, flags, out _);
        if (pt == null) return false;
        if (!NxSupported) flags &= ~NoExecute;
        pt[(va >> 12) & 511] = (pa & AddrMask) | flags | Present;
        Native.Invlpg(va);
        return true;
    }

    public static void Unmap(ulong pml4Phys, ulong va)
    {
        var pml4 = (ulong*)Phys.ToVirt(pml4Phys);
        ulong* table = pml4;
        for (int l = 4; l > 1; l--)
        {
            ulong e = table[(va >> (12 + 9 * (l - 1))) & 511];
            if ((e & Present) == 0 || (e & Large) != 0) return;
            table = Table(e);
        }
        table[(va >> 12) & 511] = 0;
        Native.Invlpg(va);
    }

    /// <summary>Physical address <paramref name="va"/> maps to in <paramref name="pml4Phys"/>, or ulong.MaxValue.</summary>
    public static ulong Translate(ulong pml4Phys, ulong va)
    {
        ulong* table = (ulong*)Phys.ToVirt(pml4Phys);
        for (int l = 4; l >= 1; l--)
        {
            ulong e = table[(va >> (12 + 9 * (l - 1))) & 511];
            if ((e & Present) == 0) return ulong.MaxValue;
            if (l == 1 || (l <= 3 && (e & Large) != 0))
            {
                ulong pageMask = (1UL << (12 + 9 * (l - 1))) - 1;
                return (e & AddrMask & ~pageMask) | (va & pageMask);
            }
            table = Table(e);
        }
        return ulong.MaxValue;
    }

    /// <summary>A new address space: kernel half shared, user half empty.</summary>
    public static ulong NewAddressSpace()
    {
        ulong p = PageAllocator.Allocate(1);
        if (p == 0) return 0;
        var dst = (ulong*)Phys.ToVirt(p);
        var src = (ulong*)Phys.ToVirt(KernelPml4);
        for (int i = 256; i < 512; i++) dst[i] = src[i];
        return p;
    }
}
