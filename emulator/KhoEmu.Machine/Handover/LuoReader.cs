namespace KhoEmu.Machine.Handover;

/// <summary>
/// Reads the LUO sub-tree of Linux 7.3 (include/linux/kho/abi/luo.h, block.h, memfd.h): struct luo_ser
/// {char compatible[8] = "luo-v5"; u64 liveupdate_num; u64 sessions_pa; u64 flbs_pa}; sessions and files live in
/// chains of one-page blocks {u64 next; u64 count} + entries: struct luo_session_ser {char name[64]; u64 files;
/// u64 count} (80 bytes) and struct luo_file_ser {char compatible[48]; u64 data; u64 token} (64 bytes). A "memfd-v2"
/// file's data is a struct memfd_luo_ser {u64 pos, size; u32 seals, flags; u64 nr_folios; struct kho_vmalloc
/// folios} whose folio array holds {u64 pfn:52, flags:12; u64 index} per folio.
/// </summary>
public static unsafe class LuoReader
{
    public const string EntryName = "LUO", Compatible = "luo-v5", MemfdCompatible = "memfd-v2";
    private const int SessionSize = 80, FileSize = 64, MaxBlocks = 10000;

    public static void Read(GuestView g, KhoHandover h, ulong ser, ulong size)
    {
        byte* p = size < 32 ? null : g.Range(ser, 32);
        if (p == null) { h.Problem($"LUO state 0x{ser:x} (+{size}) is too small or outside RAM"); return; }
        h.LuoCompatible = GuestView.Text(p, 8);
        if (h.LuoCompatible != Compatible) { h.Problem($"LUO compatible is '{h.LuoCompatible}', not '{Compatible}'"); return; }
        h.LiveUpdateNumber = *(ulong*)(p + 8);
        h.Own(ser, size, "LUO state (luo_ser)");
        foreach (nint entryAddress in Blocks(g, h, *(ulong*)(p + 16), SessionSize, "LUO session list"))
        {
            byte* entry = (byte*)entryAddress;
            string name = GuestView.Text(entry, 64);
            ulong files = *(ulong*)(entry + 64), count = *(ulong*)(entry + 72);
            var list = new List<LuoFile>();
            foreach (nint fileAddress in Blocks(g, h, files, FileSize, $"file list of session '{name}'"))
            {
                byte* f = (byte*)fileAddress;
                var file = new LuoFile(GuestView.Text(f, 48), *(ulong*)(f + 56), *(ulong*)(f + 48));
                if (file.Compatible == MemfdCompatible) file = Memfd(g, h, name, file);
                list.Add(file);
            }
            if ((ulong)list.Count != count) h.Problem($"session '{name}' says {count} files, its blocks hold {list.Count}");
            h.Sessions.Add(new LuoSession(name, list));
        }
    }

    /// <summary>The entries of a block chain (bounded; a loop or a bad count is a problem and ends the chain).</summary>
    private static List<nint> Blocks(GuestView g, KhoHandover h, ulong head, int entrySize, string what)
    {
        var entries = new List<nint>();
        var seen = new HashSet<ulong>();
        int perBlock = (4096 - 16) / entrySize;
        for (ulong b = head; b != 0;)
        {
            byte* p = g.Range(b, 4096);
            if (p == null) { h.Problem($"{what}: block 0x{b:x} is outside RAM"); break; }
            if (!seen.Add(b) || seen.Count > MaxBlocks) { h.Problem($"{what}: block chain loops at 0x{b:x}"); break; }
            ulong count = *(ulong*)(p + 8);
            if (count == 0 || count > (ulong)perBlock) { h.Problem($"{what}: block 0x{b:x} has count {count}"); break; }
            h.Own(b, 4096, what);
            for (ulong i = 0; i < count; i++) entries.Add((nint)(p + 16 + (int)i * entrySize));
            b = *(ulong*)p;
        }
        return entries;
    }

    private static LuoFile Memfd(GuestView g, KhoHandover h, string session, LuoFile file)
    {
        string who = $"memfd token {file.Token} of session '{session}'";
        byte* ser = g.Range(file.Data, 48);
        if (ser == null) { h.Problem($"{who}: memfd_luo_ser 0x{file.Data:x} is outside RAM"); return file; }
        h.Own(file.Data, 48, who + " (memfd_luo_ser)");
        ulong size = *(ulong*)(ser + 8), nrFolios = *(ulong*)(ser + 24);
        var arrayPages = KhoVmalloc.Pages(g, h, ser + 32, who + " folio array");
        var data = new List<ulong>();
        for (ulong i = 0; i < nrFolios && (long)i < arrayPages.Count * 256L; i++)
        {
            byte* f = g.Range(arrayPages[(int)(i / 256)] + i % 256 * 16, 16);
            if (f == null) { h.Problem($"{who}: folio array page outside RAM"); break; }
            ulong pfn = *(ulong*)f & ((1UL << 52) - 1), index = *(ulong*)(f + 8);
            ulong phys = pfn << 12;
            // A folio may be larger than a page: the map's block at phys says how large.
            int order = OrderAt(h, phys);
            for (ulong k = 0; k < 1UL << order; k++)
            {
                h.Own(phys + (k << 12), 4096, $"{who}, file page {index + k}");
                data.Add((phys >> 12) + k);
            }
        }
        if (nrFolios > (ulong)arrayPages.Count * 256) h.Problem($"{who}: {nrFolios} folios but the array holds {arrayPages.Count * 256}");
        return file with { Size = size, DataPages = data };
    }

    private static int OrderAt(KhoHandover h, ulong phys)
    {
        h.BlockIndex ??= h.Blocks.GroupBy(b => b.Phys).ToDictionary(x => x.Key, x => x.Max(b => b.Order));
        return h.BlockIndex.TryGetValue(phys, out int o) ? o : 0;
    }
}
