using System.Buffers.Binary;
using System.Text;

namespace KhoEmu.Elf;

/// <summary>An ELF program header (segment).</summary>
public sealed record ElfSegment(uint Type, uint Flags, ulong Offset, ulong VirtualAddress, ulong PhysicalAddress,
    ulong FileSize, ulong MemorySize, ulong Align)
{
    public const uint Load = 1, Note = 4;
}

/// <summary>An ELF section header with its resolved name.</summary>
public sealed record ElfSection(string Name, uint Type, ulong Flags, ulong Address, ulong Offset, ulong Size,
    uint Link, uint Info, ulong EntrySize);

/// <summary>A symbol table entry.</summary>
public sealed record ElfSymbol(string Name, ulong Value, ulong Size, byte Info, ushort SectionIndex)
{
    public int Type => Info & 0xF;
    public int Binding => Info >> 4;
}

/// <summary>A note: owner name, type and descriptor bytes.</summary>
public sealed record ElfNote(string Name, uint Type, byte[] Descriptor);

/// <summary>Raised for malformed ELF input; the message says what is wrong and where.</summary>
public sealed class ElfFormatException(string message) : Exception(message);

/// <summary>
/// A small reader for ELF32 and ELF64 little-endian x86 files (System V gABI): header, program headers, sections,
/// symbols and notes. Every offset and size is bounds-checked; malformed input raises <see cref="ElfFormatException"/>.
/// </summary>
public sealed class ElfFile
{
    private readonly byte[] _data;

    private ElfFile(byte[] data) => _data = data;

    public bool Is64 { get; private init; }
    public ushort FileType { get; private init; }
    public ushort Machine { get; private init; }
    public ulong Entry { get; private init; }
    public IReadOnlyList<ElfSegment> Segments { get; private init; } = [];
    public IReadOnlyList<ElfSection> Sections { get; private init; } = [];
    public ReadOnlyMemory<byte> Bytes => _data;

    public const ushort MachineX86 = 3, MachineX86_64 = 62;
    public const ushort TypeExec = 2, TypeRel = 1, TypeDyn = 3;

    public static bool LooksLikeElf(ReadOnlySpan<byte> data) =>
        data.Length >= 4 && data[0] == 0x7F && data[1] == 'E' && data[2] == 'L' && data[3] == 'F';

    public static ElfFile Parse(byte[] data)
    {
        if (!LooksLikeElf(data)) throw new ElfFormatException("not an ELF file (bad magic)");
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
        ushort type = r.U16(16), machine = r.U16(18);
        ulong entry, phoff, shoff;
        int phentsize, phnum, shentsize, shnum, shstrndx;
        if (is64)
        {
            entry = r.U64(24); phoff = r.U64(32); shoff = r.U64(40);
            phentsize = r.U16(54); phnum = r.U16(56); shentsize = r.U16(58); shnum = r.U16(60); shstrndx = r.U16(62);
        }
        else
        {
            entry = r.U32(24); phoff = r.U32(28); shoff = r.U32(32);
            phentsize = r.U16(42); phnum = r.U16(44); shentsize = r.U16(46); shnum = r.U16(48); shstrndx = r.U16(50);
        }

        var segments = new List<ElfSegment>();
        if (phnum > 0)
        {
            int need = is64 ? 56 : 32;
            if (phentsize < need) throw new ElfFormatException($"program header entry size {phentsize} is too small");
            for (int i = 0; i < phnum; i++)
            {
                ulong o = Offset(phoff, i, phentsize, $"program header {i}");
                r.Check(o, (ulong)need, $"program header {i}");
                var s = is64
                    ? new ElfSegment(r.U32(o), r.U32(o + 4), r.U64(o + 8), r.U64(o + 16), r.U64(o + 24), r.U64(o + 32), r.U64(o + 40), r.U64(o + 48))
                    : new ElfSegment(r.U32(o), r.U32(o + 24), r.U32(o + 4), r.U32(o + 8), r.U32(o + 12), r.U32(o + 16), r.U32(o + 20), r.U32(o + 28));
                if (s.FileSize > s.MemorySize && s.Type == ElfSegment.Load)
                    throw new ElfFormatException($"segment {i}: file size 0x{s.FileSize:x} exceeds memory size 0x{s.MemorySize:x}");
                if (s.Type == ElfSegment.Load || s.Type == ElfSegment.Note) r.Check(s.Offset, s.FileSize, $"segment {i} contents");
                segments.Add(s);
            }
        }

        var raw = new List<(uint Name, ElfSection S)>();
        if (shnum > 0)
        {
            int need = is64 ? 64 : 40;
            if (shentsize < need) throw new ElfFormatException($"section header entry size {shentsize} is too small");
            for (int i = 0; i < shnum; i++)
            {
                ulong o = Offset(shoff, i, shentsize, $"section header {i}");
                r.Check(o, (ulong)need, $"section header {i}");
                var s = is64
                    ? new ElfSection("", r.U32(o + 4), r.U64(o + 8), r.U64(o + 16), r.U64(o + 24), r.U64(o + 32), r.U32(o + 40), r.U32(o + 44), r.U64(o + 56))
                    : new ElfSection("", r.U32(o + 4), r.U32(o + 8), r.U32(o + 12), r.U32(o + 16), r.U32(o + 20), r.U32(o + 24), r.U32(o + 28), r.U32(o + 36));
                raw.Add((r.U32(o), s));
            }
        }
        var sections = new List<ElfSection>();
        ElfSection? names = shstrndx < raw.Count ? raw[shstrndx].S : null;
        foreach (var (nameOff, s) in raw)
            sections.Add(s with { Name = names is null ? "" : r.CString(names.Offset, names.Size, nameOff) });

        return new ElfFile(data)
        {
            Is64 = is64, FileType = type, Machine = machine, Entry = entry, Segments = segments, Sections = sections,
        };
    }

    /// <summary>The bytes of a section (empty for NOBITS).</summary>
    public ReadOnlySpan<byte> SectionData(ElfSection s)
    {
        if (s.Type == 8) return [];
        new Reader(_data).Check(s.Offset, s.Size, $"section {s.Name}");
        return _data.AsSpan((int)s.Offset, (int)s.Size);
    }

    public ReadOnlySpan<byte> SegmentData(ElfSegment s) => _data.AsSpan((int)s.Offset, (int)s.FileSize);

    /// <summary>Symbols from .symtab (or .dynsym when there is no .symtab).</summary>
    public IReadOnlyList<ElfSymbol> Symbols()
    {
        var tab = Sections.FirstOrDefault(s => s.Type == 2) ?? Sections.FirstOrDefault(s => s.Type == 11);
        if (tab is null) return [];
        if (tab.Link >= Sections.Count) throw new ElfFormatException("symbol table links to a missing string table");
        var strtab = Sections[(int)tab.Link];
        var r = new Reader(_data);
        int entSize = Is64 ? 24 : 16;
        r.Check(tab.Offset, tab.Size, "symbol table");
        var list = new List<ElfSymbol>();
        for (ulong o = tab.Offset; o + (ulong)entSize <= tab.Offset + tab.Size; o += (ulong)entSize)
        {
            uint name = r.U32(o);
            list.Add(Is64
                ? new ElfSymbol(r.CString(strtab.Offset, strtab.Size, name), r.U64(o + 8), r.U64(o + 16), _data[o + 4], r.U16(o + 6))
                : new ElfSymbol(r.CString(strtab.Offset, strtab.Size, name), r.U32(o + 4), r.U32(o + 8), _data[o + 12], r.U16(o + 14)));
        }
        return list;
    }

    /// <summary>Notes from PT_NOTE segments, or from SHT_NOTE sections when there are no note segments.</summary>
    public IReadOnlyList<ElfNote> Notes()
    {
        var notes = new List<ElfNote>();
        var regions = Segments.Where(s => s.Type == ElfSegment.Note).Select(s => (s.Offset, s.FileSize)).ToList();
        if (regions.Count == 0) regions = Sections.Where(s => s.Type == 7).Select(s => (s.Offset, s.Size)).ToList();
        var r = new Reader(_data);
        foreach (var (off, size) in regions)
        {
            r.Check(off, size, "note");
            ulong o = off, end = off + size;
            while (o + 12 <= end)
            {
                uint namesz = r.U32(o), descsz = r.U32(o + 4), type = r.U32(o + 8);
                ulong nameOff = o + 12, descOff = nameOff + Align4(namesz);
                if (descOff + descsz > end || nameOff + namesz > end) throw new ElfFormatException("note runs past its segment");
                string name = Encoding.ASCII.GetString(_data, (int)nameOff, (int)namesz).TrimEnd('\0');
                notes.Add(new ElfNote(name, type, _data.AsSpan((int)descOff, (int)descsz).ToArray()));
                o = descOff + Align4(descsz);
            }
        }
        return notes;
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

        public string CString(ulong tableOff, ulong tableSize, uint index)
        {
            if (index >= tableSize) return "";
            Check(tableOff, tableSize, "string table");
            var span = d.AsSpan((int)(tableOff + index), (int)(tableSize - index));
            int n = span.IndexOf((byte)0);
            return Encoding.UTF8.GetString(n < 0 ? span : span[..n]);
        }
    }
}
