using System.Buffers.Binary;

namespace KhoEmu.Elf;

/// <summary>
/// The structural checks made on the raw bytes before ELFSharp reads them (System V gABI, "ELF Header", "Program
/// Header", "Note Section"). ELFSharp trusts its input: a table past the end of the file, an offset that wraps or a
/// note whose sizes run past its segment make it throw or read garbage. These checks give each such file a one-line
/// reason, the loader's refusal messages; whatever still makes ELFSharp throw is caught in <see cref="ElfFile"/>.
/// </summary>
internal static class ElfLayout
{
    /// <summary>Checks <paramref name="data"/>; returns whether it is ELF64. Raises <see cref="ElfFormatException"/>.</summary>
    public static bool Validate(byte[] data)
    {
        if (!ElfFile.LooksLikeElf(data)) throw new ElfFormatException("not an ELF file (bad magic)");
        if (data.Length < 52) throw new ElfFormatException("ELF header truncated");
        bool is64 = data[4] switch
        {
            1 => false,
            2 => true,
            _ => throw new ElfFormatException($"unknown ELF class {data[4]}"),
        };
        if (data[5] != 1) throw new ElfFormatException("only little-endian ELF is supported");
        if (is64 && data.Length < 64) throw new ElfFormatException("ELF64 header truncated");
        var r = new Reader(data);
        ulong phoff, shoff;
        int phentsize, phnum, shentsize, shnum;
        if (is64)
        {
            phoff = r.U64(32); shoff = r.U64(40);
            phentsize = r.U16(54); phnum = r.U16(56); shentsize = r.U16(58); shnum = r.U16(60);
        }
        else
        {
            phoff = r.U32(28); shoff = r.U32(32);
            phentsize = r.U16(42); phnum = r.U16(44); shentsize = r.U16(46); shnum = r.U16(48);
        }
        // ELFSharp reads entries at the fixed gABI sizes, so a larger e_phentsize/e_shentsize would misplace them.
        int phNeed = is64 ? 56 : 32, shNeed = is64 ? 64 : 40;
        if (phnum > 0 && phentsize != phNeed) throw new ElfFormatException($"program header entry size {phentsize} is not {phNeed}");
        if (shnum > 0 && shentsize != shNeed) throw new ElfFormatException($"section header entry size {shentsize} is not {shNeed}");
        for (int i = 0; i < phnum; i++)
        {
            ulong o = Offset(phoff, i, phentsize, $"program header {i}");
            r.Check(o, (ulong)phNeed, $"program header {i}");
            uint type = r.U32(o);
            ulong off = is64 ? r.U64(o + 8) : r.U32(o + 4);
            ulong fileSize = is64 ? r.U64(o + 32) : r.U32(o + 16), memSize = is64 ? r.U64(o + 40) : r.U32(o + 20);
            if (type == ElfSegment.Load && fileSize > memSize)
                throw new ElfFormatException($"segment {i}: file size 0x{fileSize:x} exceeds memory size 0x{memSize:x}");
            if (type is ElfSegment.Load or ElfSegment.Note) r.Check(off, fileSize, $"segment {i} contents");
            if (type == ElfSegment.Note) CheckNotes(r, off, fileSize);
        }
        for (int i = 0; i < shnum; i++)
        {
            ulong o = Offset(shoff, i, shentsize, $"section header {i}");
            r.Check(o, (ulong)shNeed, $"section header {i}");
            uint type = r.U32(o + 4);
            ulong off = is64 ? r.U64(o + 24) : r.U32(o + 16), size = is64 ? r.U64(o + 32) : r.U32(o + 20);
            if (type != 8 && type != 0) r.Check(off, size, $"section {i} contents"); // SHT_NOBITS, SHT_NULL have none
            if (type == 7) CheckNotes(r, off, size);
        }
        return is64;
    }

    /// <summary>Walks the notes of [off, off+size): each header's namesz and descsz must stay inside it.</summary>
    private static void CheckNotes(Reader r, ulong off, ulong size)
    {
        ulong o = off, end = off + size;
        while (o + 12 <= end)
        {
            ulong namesz = r.U32(o), descsz = r.U32(o + 4);
            ulong nameOff = o + 12, descOff = nameOff + Align4(namesz);
            if (descOff + descsz > end || nameOff + namesz > end) throw new ElfFormatException("note runs past its segment");
            o = descOff + Align4(descsz);
        }
    }

    private static ulong Align4(ulong v) => (v + 3) & ~3UL;

    /// <summary>Table entry <paramref name="i"/>'s offset; a table start near 2^64 must not wrap round to the file's start.</summary>
    private static ulong Offset(ulong table, int i, int entrySize, string what)
    {
        ulong rel = (ulong)i * (ulong)entrySize;
        if (table > ulong.MaxValue - rel) throw new ElfFormatException($"{what} offset overflows");
        return table + rel;
    }

    private readonly struct Reader(byte[] d)
    {
        public void Check(ulong off, ulong len, string what)
        {
            if (off > (ulong)d.Length || len > (ulong)d.Length - off)
                throw new ElfFormatException($"{what} at 0x{off:x}+0x{len:x} lies outside the {d.Length}-byte file");
        }

        public ushort U16(ulong o) { Check(o, 2, "field"); return BinaryPrimitives.ReadUInt16LittleEndian(d.AsSpan((int)o)); }
        public uint U32(ulong o) { Check(o, 4, "field"); return BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan((int)o)); }
        public ulong U64(ulong o) { Check(o, 8, "field"); return BinaryPrimitives.ReadUInt64LittleEndian(d.AsSpan((int)o)); }
    }
}
