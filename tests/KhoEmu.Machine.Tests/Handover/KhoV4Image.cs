using System.Buffers.Binary;
using System.Text;
using KhoEmu.Guest.Shared;
using KhoEmu.Memory;

namespace KhoEmu.Machine.Tests.Handover;

/// <summary>
/// Builds a Linux 7.3 x86 handover by hand in guest memory, from the ABI headers' layouts (not from the readers):
/// boot_params with a SETUP_KEXEC_KHO setup_data, the scratch array, a kho-v4 root FDT, the 6-level radix tree, and a
/// LUO sub-tree with one session holding one two-page memfd.
/// </summary>
internal sealed unsafe class KhoV4Image : IDisposable
{
    public const ulong BootParams = 0x1_0000, SetupData = 0x1_1000, ScratchArray = 0x1_2000, Fdt = 0x2_0000;
    public const ulong LuoSer = 0x4_0000, Sessions = 0x4_1000, Files = 0x4_2000, MemfdSer = 0x4_3000, Chunk = 0x4_4000, FolioArray = 0x4_5000;
    public const ulong Data0 = 0x50_0000, Data1 = 0x50_1000, Big = 0x80_0000, Entry = 0x300_0200;
    public const ulong ScratchA = 0x100_0000, ScratchASize = 0x80_0000, ScratchB = 0x200_0000, ScratchBSize = 0x40_0000;
    public const ulong Token = 7;
    private ulong _nextNode = 0x10_0000;

    public PhysicalMemory Memory { get; } = new(64UL << 20);
    public ulong Root { get; }
    public List<ulong> Nodes { get; } = [];

    public KhoV4Image()
    {
        Root = NewNode();
        var bp = new byte[4096];
        BinaryPrimitives.WriteUInt32LittleEndian(bp.AsSpan(0x202), 0x5372_6448);      // "HdrS"
        BinaryPrimitives.WriteUInt32LittleEndian(bp.AsSpan(0x230), 0x20_0000);         // kernel_alignment
        BinaryPrimitives.WriteUInt64LittleEndian(bp.AsSpan(0x250), SetupData);        // hdr.setup_data
        BinaryPrimitives.WriteUInt32LittleEndian(bp.AsSpan(0x260), 0x40_0000);         // init_size
        Memory.Write(BootParams, bp);
        var sd = new byte[16 + 32];
        BinaryPrimitives.WriteUInt32LittleEndian(sd.AsSpan(8), 10);                   // SETUP_KEXEC_KHO
        BinaryPrimitives.WriteUInt32LittleEndian(sd.AsSpan(12), 32);
        BinaryPrimitives.WriteUInt64LittleEndian(sd.AsSpan(16), Fdt);
        BinaryPrimitives.WriteUInt64LittleEndian(sd.AsSpan(24), 4096);
        BinaryPrimitives.WriteUInt64LittleEndian(sd.AsSpan(32), ScratchArray);
        BinaryPrimitives.WriteUInt64LittleEndian(sd.AsSpan(40), 32);
        Memory.Write(SetupData, sd);
        WriteU64s(ScratchArray, ScratchA, ScratchASize, ScratchB, ScratchBSize);
        WriteFdt(Root);
        WriteLuo();
        foreach (ulong page in new[] { Fdt, LuoSer, Sessions, Files, MemfdSer, Chunk, FolioArray, Data0, Data1 }) Preserve(page, 0);
        Preserve(Big, 9);
        Memory.Write(Data0, Enumerable.Repeat((byte)0x11, 4096).ToArray());
        Memory.Write(Data1, Enumerable.Repeat((byte)0x22, 4096).ToArray());
    }

    public void WriteFdt(ulong mapRoot, int totalSizeOverride = 0)
    {
        var fdt = new byte[4096];
        fixed (byte* p = fdt)
        {
            var w = FdtWriter.Create(p, fdt.Length);
            w.BeginNode("");
            w.PropertyString("compatible", "kho-v4");
            w.PropertyU64("preserved-memory-map", mapRoot);
            w.BeginNode("LUO");
            w.PropertyU64("preserved-data", LuoSer);
            w.PropertyU64("blob-size", 32);
            w.EndNode();
            w.EndNode();
            if (w.Finish() <= 0) throw new InvalidOperationException("FDT did not fit");
            if (totalSizeOverride != 0) KhoEmu.Guest.Shared.Fdt.WriteBe32(p + 4, (uint)totalSizeOverride);
        }
        Memory.Write(Fdt, fdt);
    }

    private void WriteLuo()
    {
        var ser = new byte[32];
        Encoding.ASCII.GetBytes("luo-v5").CopyTo(ser, 0);
        BinaryPrimitives.WriteUInt64LittleEndian(ser.AsSpan(8), 3);                   // liveupdate_num
        BinaryPrimitives.WriteUInt64LittleEndian(ser.AsSpan(16), Sessions);
        Memory.Write(LuoSer, ser);
        var sessions = new byte[16 + 80];
        BinaryPrimitives.WriteUInt64LittleEndian(sessions.AsSpan(8), 1);              // block count
        Encoding.ASCII.GetBytes("s1").CopyTo(sessions, 16);
        BinaryPrimitives.WriteUInt64LittleEndian(sessions.AsSpan(16 + 64), Files);
        BinaryPrimitives.WriteUInt64LittleEndian(sessions.AsSpan(16 + 72), 1);
        Memory.Write(Sessions, sessions);
        var files = new byte[16 + 64];
        BinaryPrimitives.WriteUInt64LittleEndian(files.AsSpan(8), 1);
        Encoding.ASCII.GetBytes("memfd-v2").CopyTo(files, 16);
        BinaryPrimitives.WriteUInt64LittleEndian(files.AsSpan(16 + 48), MemfdSer);    // data
        BinaryPrimitives.WriteUInt64LittleEndian(files.AsSpan(16 + 56), Token);
        Memory.Write(Files, files);
        var memfd = new byte[48];
        BinaryPrimitives.WriteUInt64LittleEndian(memfd.AsSpan(8), 8192);              // size
        BinaryPrimitives.WriteUInt64LittleEndian(memfd.AsSpan(24), 2);                // nr_folios
        BinaryPrimitives.WriteUInt64LittleEndian(memfd.AsSpan(32), Chunk);            // folios.first
        BinaryPrimitives.WriteUInt32LittleEndian(memfd.AsSpan(40), 1);                // folios.total_pages
        Memory.Write(MemfdSer, memfd);
        WriteU64s(Chunk, 0, FolioArray);                                               // {next; phys[]}
        WriteU64s(FolioArray, Data0 >> 12, 0, (Data1 >> 12) | (1UL << 52), 1);       // {pfn:52|flags:12; index}
    }

    public void WriteU64s(ulong at, params ulong[] values)
    {
        var b = new byte[8 * values.Length];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8 * i), values[i]);
        Memory.Write(at, b);
    }

    public ulong ReadU64(ulong at)
    {
        var b = new byte[8];
        Memory.Read(at, b);
        return BinaryPrimitives.ReadUInt64LittleEndian(b);
    }

    private ulong NewNode()
    {
        ulong n = _nextNode;
        _nextNode += 4096;
        Nodes.Add(n);
        return n;
    }

    /// <summary>kho_encode_radix_key, then the table walk of kho_radix_add_key (levels 5..1, then the bitmap).</summary>
    public void Preserve(ulong phys, int order)
    {
        int shift = 12 + order;
        ulong key = (1UL << (64 - shift)) | (phys >> shift);
        ulong node = Root;
        for (int level = 5; level > 0; level--)
        {
            ulong idx = (key >> ((level - 1) * 9 + 15)) & 511;
            ulong child = ReadU64(node + 8 * idx);
            if (child == 0) { child = NewNode(); WriteU64s(node + 8 * idx, child); }
            node = child;
        }
        ulong bit = key & 0x7FFF;
        var b = new byte[1];
        Memory.Read(node + bit / 8, b);
        b[0] |= (byte)(1 << (int)(bit % 8));
        Memory.Write(node + bit / 8, b);
    }

    public void Dispose() => Memory.Dispose();
}
