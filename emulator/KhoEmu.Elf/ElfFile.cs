using ELFSharp.ELF;
using ELFSharp.ELF.Sections;
using ELFSharp.ELF.Segments;

namespace KhoEmu.Elf;

/// <summary>
/// An ELF32 or ELF64 little-endian x86 file read through ELFSharp: header, program headers, sections, symbols and
/// notes. <see cref="ElfLayout"/> checks the raw layout first (ELFSharp trusts its input), and any exception ELFSharp
/// still raises becomes an <see cref="ElfFormatException"/>: malformed input never escapes as anything else.
/// </summary>
public sealed class ElfFile
{
    private readonly byte[] _data;
    private readonly IELF _elf;

    private ElfFile(byte[] data, IELF elf)
    {
        _data = data;
        _elf = elf;
    }

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
        bool is64 = ElfLayout.Validate(data);
        return Guard("ELF", () =>
        {
            var stream = new MemoryStream(data, writable: false);
            IELF elf = is64 ? ELFReader.Load<ulong>(stream, shouldOwnStream: true) : ELFReader.Load<uint>(stream, shouldOwnStream: true);
            return is64 ? Map(data, (ELF<ulong>)elf, true) : Map(data, (ELF<uint>)elf, false);
        });
    }

    private static ElfFile Map<T>(byte[] data, ELF<T> elf, bool is64) where T : struct
    {
        // e_type and e_machine are kept as the raw numbers (the enums name only some); ELFSharp casts them unchanged.
        var segments = elf.Segments.Select(s => new ElfSegment((uint)s.Type, (uint)s.Flags, (ulong)s.Offset,
            U64(s.Address), U64(s.PhysicalAddress), (ulong)s.FileSize, U64(s.Size), U64(s.Alignment))).ToList();
        var sections = elf.Sections.Select(s => new ElfSection(elf.HasSectionsStringTable ? s.Name ?? "" : "",
            (uint)s.Type, U64(s.RawFlags), U64(s.LoadAddress), U64(s.Offset), U64(s.Size), U64(s.EntrySize))).ToList();
        return new ElfFile(data, elf)
        {
            Is64 = is64, FileType = (ushort)elf.Type, Machine = (ushort)elf.Machine, Entry = U64(elf.EntryPoint),
            Segments = segments, Sections = sections,
        };
    }

    private static ulong U64<T>(T v) where T : struct => v switch
    {
        ulong u => u,
        uint u => u,
        _ => throw new ElfFormatException($"unexpected ELF word type {typeof(T).Name}"),
    };

    /// <summary>The bytes of a section (empty for NOBITS).</summary>
    public ReadOnlySpan<byte> SectionData(ElfSection s)
    {
        if (s.Type == 8) return [];
        int i = Sections.ToList().IndexOf(s);
        if (i < 0) throw new ArgumentException($"section {s.Name} is not one of this file's", nameof(s));
        return Guard($"section {s.Name}", () => _elf.Sections[i].GetContents());
    }

    /// <summary>A segment's file bytes, a view of the (validated) file rather than a copy: kernel segments are large.</summary>
    public ReadOnlySpan<byte> SegmentData(ElfSegment s) => _data.AsSpan((int)s.Offset, (int)s.FileSize);

    /// <summary>Symbols from .symtab (or .dynsym when there is no .symtab).</summary>
    public IReadOnlyList<ElfSymbol> Symbols() => Guard("symbol table", () =>
    {
        var tab = _elf.Sections.FirstOrDefault(s => s.Type == SectionType.SymbolTable)
            ?? _elf.Sections.FirstOrDefault(s => s.Type == SectionType.DynamicSymbolTable);
        return tab switch
        {
            null => [],
            SymbolTable<ulong> t => t.Entries.Select(e => Symbol(e.Name, e.Value, e.Size, e)).ToList(),
            SymbolTable<uint> t => t.Entries.Select(e => Symbol(e.Name, e.Value, e.Size, e)).ToList(),
            _ => throw new ElfFormatException($"symbol table section {tab.Name} has an unexpected layout"),
        };
    });

    private static ElfSymbol Symbol(string? name, ulong value, ulong size, ISymbolEntry e) =>
        new(name ?? "", value, size, (byte)(((int)e.Binding << 4) | ((int)e.Type & 0xF)), e.PointedSectionIndex);

    /// <summary>Notes from PT_NOTE segments, or from SHT_NOTE sections when there are no note segments.</summary>
    public IReadOnlyList<ElfNote> Notes() => Guard("note", () =>
    {
        var fromSegments = _elf.Segments.OfType<INoteSegment>()
            .SelectMany(s => s.Notes).Select(n => new ElfNote(n.Name.TrimEnd('\0'), (uint)n.Type, [.. n.Description])).ToList();
        if (_elf.Segments.Any(s => s.Type == SegmentType.Note)) return fromSegments;
        return _elf.Sections.OfType<INoteSection>().Select(NoteOf).ToList();
    });

    private static ElfNote NoteOf(INoteSection s) => s switch
    {
        NoteSection<ulong> n => new ElfNote(n.NoteName.TrimEnd('\0'), (uint)n.NoteType, n.Description),
        NoteSection<uint> n => new ElfNote(n.NoteName.TrimEnd('\0'), n.NoteType, n.Description),
        _ => throw new ElfFormatException($"note section {s.Name} has an unexpected layout"),
    };

    /// <summary>Runs an ELFSharp read; what it throws on input the layout checks let through becomes a format error.</summary>
    private static TResult Guard<TResult>(string what, Func<TResult> read)
    {
        try { return read(); }
        catch (ElfFormatException) { throw; }
        catch (Exception e) when (e is not OutOfMemoryException and not StackOverflowException)
        {
            throw new ElfFormatException($"{what} is malformed: {e.Message}");
        }
    }
}
