using KhoEmu.Guest.Shared;
using KhoEmu.Memory;

namespace KhoEmu.Machine.Handover;

/// <summary>
/// Reads the project kernel's handover (docs/handover.md, "KHO"): the 32-byte descriptor {fdt_addr, fdt_size,
/// scratch_addr, scratch_size}, the root FDT (compatible "kho-v1", preserved-memory-map = u64, children with
/// fdt = u64), the map as a linked list of one-page chunks {u64 next; u32 order; u32 count} + up to 255
/// {u64 phys_start; u64 bitmap_phys} with one-page bitmaps, and the LUO sub-FDT (luo-v1 / luo-session-v2: header
/// {u64 count} + {char name[64]; u64 files; u64 count} sessions, {char compatible[48]; u64 data; u64 token} files,
/// memfd-v1 headers {u64 size; u64 pos; u32 order; u32 reserved; u64 nblocks; u64 blocks_phys; ...}).
/// </summary>
public static unsafe class KhoV1Reader
{
    public const string Compatible = "kho-v1";
    public const int MaxChunkElements = 255, MaxChunks = 1 << 16;

    public static KhoHandover Read(PhysicalMemory memory, ulong descriptor)
    {
        var g = new GuestView(memory);
        var h = new KhoHandover { BootData = descriptor };
        byte* d = g.Range(descriptor, 32);
        if (d == null) { h.Problem("descriptor not in RAM"); return h; }
        h.FdtAddress = *(ulong*)d;
        h.FdtSize = *(ulong*)(d + 8);
        ulong scratch = *(ulong*)(d + 16), scratchSize = *(ulong*)(d + 24);
        byte* s = scratchSize % 16 == 0 && scratchSize <= 16 * 1024 ? g.Range(scratch, scratchSize) : null;
        if (s == null && scratchSize != 0) h.Problem($"scratch list 0x{scratch:x} (+{scratchSize}) unreadable");
        if (s != null)
            for (ulong i = 0; i < scratchSize / 16; i++) h.Scratch.Add(new KhoRange(*(ulong*)(s + 16 * i), *(ulong*)(s + 16 * i + 8)));
        byte* fdt = h.FdtSize is 0 or > 4096 ? null : g.Range(h.FdtAddress, h.FdtSize);
        if (fdt == null || FdtReader.Open(fdt, h.FdtSize, out var r) != Fdt.Ok) { h.Problem("root FDT unreadable"); return h; }
        h.Format = LinuxKhoReader.StringProperty(r, 0, "compatible") ?? "";
        if (!r.GetU64(0, "preserved-memory-map", out ulong chunk)) { h.Problem("no preserved-memory-map"); return h; }
        h.MapRoot = chunk;
        if (!Chunks(g, h, chunk)) return h;
        h.Own(h.FdtAddress, h.FdtSize, "KHO root FDT");
        for (int child = r.FirstChild(0); child >= 0; child = r.NextSibling(child))
        {
            string name = GuestView.Text(r.NodeName(child, out int len), len);
            if (!r.GetU64(child, "fdt", out ulong sub)) continue;
            byte* sp = g.Range(sub, 4096);
            string? compat = sp != null && FdtReader.Open(sp, 4096, out var sr) == Fdt.Ok ? LinuxKhoReader.StringProperty(sr, 0, "compatible") : null;
            h.Subtrees.Add(new KhoSubtree(name, sub, 4096, compat));
            h.Own(sub, 4096, $"sub-tree '{name}'");
            if (name == "LUO" && sp != null) Luo(g, h, sp);
        }
        return h;
    }

    private static bool Chunks(GuestView g, KhoHandover h, ulong chunk)
    {
        var seen = new HashSet<ulong>();
        for (int chunks = 0; chunk != 0; chunks++)
        {
            byte* c = g.Range(chunk, 4096);
            if (c == null) { h.Problem("chunk outside RAM"); return false; }
            if (!seen.Add(chunk) || chunks >= MaxChunks) { h.Problem($"chunk list loops at 0x{chunk:x}"); return false; }
            int order = *(int*)(c + 8);
            uint count = *(uint*)(c + 12);
            if (order is < 0 or > 20 || count > MaxChunkElements) { h.Problem("bad chunk header"); return false; }
            h.MapPages.Add(chunk);
            h.Own(chunk, 4096, "KHO map chunk");
            for (uint i = 0; i < count; i++)
            {
                ulong start = *(ulong*)(c + 16 + 16 * i), bitmap = *(ulong*)(c + 24 + 16 * i);
                byte* bits = g.Range(bitmap, 4096);
                if (bits == null) continue;
                h.MapPages.Add(bitmap);
                h.Own(bitmap, 4096, "KHO map bitmap");
                for (int b = 0; b < 4096 * 8; b++)
                    if ((bits[b >> 3] & (1 << (b & 7))) != 0) h.Blocks.Add(new KhoBlock(start + ((ulong)b << (order + 12)), order));
            }
            chunk = *(ulong*)c;
        }
        return true;
    }

    private static void Luo(GuestView g, KhoHandover h, byte* fdt)
    {
        if (FdtReader.Open(fdt, 4096, out var r) != Fdt.Ok) return;
        h.LuoCompatible = LinuxKhoReader.StringProperty(r, 0, "compatible");
        r.GetU64(0, "liveupdate-number", out ulong number);
        h.LiveUpdateNumber = number;
        int node = r.FindChild(0, "luo-session");
        if (node < 0 || !r.GetU64(node, "luo-session-header", out ulong header) || !g.U64(header, out ulong count) || count > 64) return;
        h.Own(header, 8 + 80 * count, "LUO session header");
        for (ulong i = 0; i < count; i++)
        {
            byte* e = g.Range(header + 8 + 80 * i, 80);
            if (e == null) break;
            string name = GuestView.Text(e, 64);
            ulong files = *(ulong*)(e + 64), n = *(ulong*)(e + 72);
            var list = new List<LuoFile>();
            for (ulong k = 0; k < n && k < 128; k++)
            {
                byte* f = g.Range(files + 64 * k, 64);
                if (f == null) break;
                var file = new LuoFile(GuestView.Text(f, 48), *(ulong*)(f + 56), *(ulong*)(f + 48));
                if (file.Compatible == "memfd-v1") file = MemfdV1(g, h, name, file);
                list.Add(file);
            }
            if (n > 0) h.Own(files, 64 * n, $"file list of session '{name}'");
            h.Sessions.Add(new LuoSession(name, list));
        }
    }

    private static LuoFile MemfdV1(GuestView g, KhoHandover h, string session, LuoFile file)
    {
        byte* m = g.Range(file.Data, 48);
        if (m == null) return file;
        string who = $"memfd token {file.Token} of session '{session}'";
        h.Own(file.Data, 4096, who + " (header)");
        ulong size = *(ulong*)m, nblocks = *(ulong*)(m + 24), blocks = *(ulong*)(m + 32);
        int order = *(int*)(m + 16);
        var pages = new List<ulong>();
        if (order is >= 0 and <= 20 && nblocks <= 1 << 20)
            for (ulong i = 0; i < nblocks; i++)
            {
                if (!g.U64(blocks + 8 * i, out ulong b)) break;
                for (ulong k = 0; k < 1UL << order; k++)
                {
                    h.Own(b + (k << 12), 4096, $"{who}, file page {(i << order) + k}");
                    pages.Add((b >> 12) + k);
                }
            }
        return file with { Size = size, DataPages = pages };
    }
}
