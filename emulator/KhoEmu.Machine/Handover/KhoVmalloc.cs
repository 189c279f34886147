namespace KhoEmu.Machine.Handover;

/// <summary>
/// A preserved vmalloc area (kexec_handover.h, struct kho_vmalloc {u64 first; u32 total_pages; u16 flags; u16 order}):
/// a linked list of one-page chunks {u64 next; u64 phys[511]} (zero-terminated) naming runs of 2^order pages.
/// </summary>
public static unsafe class KhoVmalloc
{
    private const int PerChunk = 511, MaxChunks = 1 << 14;

    /// <summary>The area's pages in order (at most <paramref name="maxPages"/>), naming the chunk pages' owner.</summary>
    public static List<ulong> Pages(GuestView g, KhoHandover h, byte* descriptor, string owner, long maxPages = 1 << 20)
    {
        ulong chunk = *(ulong*)descriptor;
        uint total = *(uint*)(descriptor + 8);
        int order = *(ushort*)(descriptor + 14);
        var pages = new List<ulong>();
        if (order > 20) { h.Problem($"{owner}: vmalloc order {order} is absurd"); return pages; }
        if (total > maxPages) { h.Problem($"{owner}: vmalloc of {total} pages is absurd"); return pages; }
        var seen = new HashSet<ulong>();
        while (chunk != 0 && pages.Count < total)
        {
            byte* c = g.Range(chunk, 4096);
            if (c == null) { h.Problem($"{owner}: vmalloc chunk 0x{chunk:x} is outside RAM"); break; }
            if (!seen.Add(chunk) || seen.Count > MaxChunks) { h.Problem($"{owner}: vmalloc chunk list loops at 0x{chunk:x}"); break; }
            h.Own(chunk, 4096, owner + " (vmalloc chunk)");
            for (int i = 0; i < PerChunk && pages.Count < total; i++)
            {
                ulong phys = ((ulong*)(c + 8))[i];
                if (phys == 0) { chunk = 0; break; }
                for (int k = 0; k < 1 << order; k++) pages.Add(phys + ((ulong)k << 12));
            }
            if (chunk != 0) chunk = *(ulong*)c;
        }
        if (pages.Count < total) h.Problem($"{owner}: vmalloc lists {pages.Count} of its {total} pages");
        return pages;
    }
}
