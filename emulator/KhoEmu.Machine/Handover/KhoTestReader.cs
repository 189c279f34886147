namespace KhoEmu.Machine.Handover;

/// <summary>
/// Names the pages of Linux's KHO self-test (lib/test_kho.c, compatible "kho-test-v1"): an FDT with /data
/// {nr_folios, folios_info = struct kho_vmalloc, csum} whose vmalloc array holds phys | order per folio.
/// </summary>
public static unsafe class KhoTestReader
{
    public static void Read(GuestView g, KhoHandover h, ulong fdt, ulong size)
    {
        byte* p = g.Range(fdt, size);
        if (p == null || KhoEmu.Guest.Shared.FdtReader.Open(p, size, out var r) != KhoEmu.Guest.Shared.Fdt.Ok) return;
        int data = r.FindChild(0, "data");
        if (data < 0 || !r.GetProperty(data, "folios_info", out byte* info, out int len) || len != 16) return;
        if (!r.GetProperty(data, "nr_folios", out byte* nr, out int nrLen) || nrLen is not (4 or 8)) return;
        var array = KhoVmalloc.Pages(g, h, info, "kho_test folio array");
        uint count = *(uint*)nr;
        for (uint i = 0; i < count && i < array.Count * 512L; i++)
        {
            if (!g.U64(array[(int)(i / 512)] + i % 512 * 8, out ulong entry)) break;
            int order = (int)(entry & 0xFFF);
            ulong phys = entry & ~0xFFFUL;
            if (order <= 20) h.Own(phys, 4096UL << order, $"kho_test folio {i} (order {order})");
        }
    }
}
