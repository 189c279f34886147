using System.Buffers.Binary;
using System.Text;

namespace KhoEmu.Elf;

/// <summary>
/// Writes an ELF64 x86-64 relocatable object (ET_REL): sections, a symbol table (locals first, as the format
/// requires), and RELA relocations, for `ld` to link. The guest toolchain emits its Iced-assembled stubs with it.
/// </summary>
public sealed class ElfObjectWriter
{
    public const uint ShtProgbits = 1, ShtSymtab = 2, ShtStrtab = 3, ShtRela = 4, ShtNobits = 8;
    public const ulong ShfWrite = 1, ShfAlloc = 2, ShfExecInstr = 4, ShfInfoLink = 0x40;
    public const uint RX86_64_64 = 1, RX86_64_PC32 = 2, RX86_64_PLT32 = 4, RX86_64_32 = 10, RX86_64_32S = 11;
    public const byte SttNotype = 0, SttObject = 1, SttFunc = 2, SttSection = 3;

    public sealed class Section(string name, uint type, ulong flags, ulong align)
    {
        public string Name { get; } = name;
        public uint Type { get; } = type;
        public ulong Flags { get; } = flags;
        public ulong Align { get; } = align;
        public byte[] Data { get; set; } = [];
        /// <summary>Size of a NOBITS section (no file contents).</summary>
        public ulong NobitsSize { get; set; }
        internal int Index;
        internal readonly List<(ulong Offset, string Symbol, uint Type, long Addend)> Relocations = [];

        public void AddRelocation(ulong offset, string symbol, uint type, long addend = 0) =>
            Relocations.Add((offset, symbol, type, addend));
    }

    private readonly List<Section> _sections = [];
    private readonly List<(string Name, Section? Section, ulong Value, ulong Size, bool Global, byte Type)> _symbols = [];

    public Section AddSection(string name, uint type, ulong flags, ulong align)
    {
        var s = new Section(name, type, flags, align);
        _sections.Add(s);
        return s;
    }

    /// <summary>Defines a symbol at <paramref name="value"/> within <paramref name="section"/>.</summary>
    public void Define(string name, Section section, ulong value, ulong size = 0, bool global = true, byte type = SttFunc)
    {
        if (_symbols.Any(s => s.Name == name && s.Section is not null))
            throw new ArgumentException($"symbol {name} defined twice");
        _symbols.Add((name, section, value, size, global, type));
    }

    public byte[] Build()
    {
        // Section indices: 0 null, then user sections, then .rela.* , .symtab, .strtab, .shstrtab.
        for (int i = 0; i < _sections.Count; i++) _sections[i].Index = i + 1;

        // Undefined symbols are every relocation target not defined here.
        var defined = _symbols.Where(s => s.Section is not null).Select(s => s.Name).ToHashSet();
        var undefined = _sections.SelectMany(s => s.Relocations.Select(r => r.Symbol))
            .Where(n => !defined.Contains(n)).Distinct().ToList();
        var ordered = _symbols.Where(s => !s.Global).Concat(_symbols.Where(s => s.Global))
            .Select(s => (s.Name, SectionIndex: s.Section?.Index ?? 0, s.Value, s.Size, s.Global, s.Type))
            .Concat(undefined.Select(n => (Name: n, SectionIndex: 0, Value: 0UL, Size: 0UL, Global: true, Type: SttNotype)))
            .ToList();
        int firstGlobal = 1 + _symbols.Count(s => !s.Global);

        var strtab = new StringTable();
        var symtab = new byte[24 * (ordered.Count + 1)];
        var symIndex = new Dictionary<string, int>();
        for (int i = 0; i < ordered.Count; i++)
        {
            var s = ordered[i];
            var e = symtab.AsSpan(24 * (i + 1));
            BinaryPrimitives.WriteUInt32LittleEndian(e, strtab.Add(s.Name));
            e[4] = (byte)(((s.Global ? 1 : 0) << 4) | s.Type);
            BinaryPrimitives.WriteUInt16LittleEndian(e[6..], (ushort)s.SectionIndex);
            BinaryPrimitives.WriteUInt64LittleEndian(e[8..], s.Value);
            BinaryPrimitives.WriteUInt64LittleEndian(e[16..], s.Size);
            symIndex[s.Name] = i + 1;
        }

        var relaSections = _sections.Where(s => s.Relocations.Count > 0).ToList();
        var relaData = relaSections.Select(s =>
        {
            var d = new byte[24 * s.Relocations.Count];
            for (int i = 0; i < s.Relocations.Count; i++)
            {
                var (off, sym, type, addend) = s.Relocations[i];
                var e = d.AsSpan(24 * i);
                BinaryPrimitives.WriteUInt64LittleEndian(e, off);
                BinaryPrimitives.WriteUInt64LittleEndian(e[8..], ((ulong)symIndex[sym] << 32) | type);
                BinaryPrimitives.WriteInt64LittleEndian(e[16..], addend);
            }
            return d;
        }).ToList();

        int relaBase = _sections.Count + 1;
        int symtabIndex = relaBase + relaSections.Count, strtabIndex = symtabIndex + 1, shstrIndex = strtabIndex + 1;
        var shstr = new StringTable();
        var headers = new List<byte[]> { new byte[64] };
        var body = new MemoryStream();
        ulong Place(byte[] data, ulong align)
        {
            long pad = (long)((align - (ulong)(64 + body.Length) % align) % align);
            body.Write(new byte[pad]);
            ulong off = (ulong)(64 + body.Length);
            body.Write(data);
            return off;
        }
        foreach (var s in _sections)
        {
            ulong off = s.Type == ShtNobits ? (ulong)(64 + body.Length) : Place(s.Data, Math.Max(s.Align, 1));
            ulong size = s.Type == ShtNobits ? s.NobitsSize : (ulong)s.Data.Length;
            headers.Add(SectionHeader(shstr.Add(s.Name), s.Type, s.Flags, off, size, 0, 0, s.Align, 0));
        }
        for (int i = 0; i < relaSections.Count; i++)
        {
            ulong off = Place(relaData[i], 8);
            headers.Add(SectionHeader(shstr.Add(".rela" + relaSections[i].Name), ShtRela, ShfInfoLink, off,
                (ulong)relaData[i].Length, (uint)symtabIndex, (uint)relaSections[i].Index, 8, 24));
        }
        ulong symOff = Place(symtab, 8);
        headers.Add(SectionHeader(shstr.Add(".symtab"), ShtSymtab, 0, symOff, (ulong)symtab.Length, (uint)strtabIndex, (uint)firstGlobal, 8, 24));
        var strBytes = strtab.ToArray();
        headers.Add(SectionHeader(shstr.Add(".strtab"), ShtStrtab, 0, Place(strBytes, 1), (ulong)strBytes.Length, 0, 0, 1, 0));
        uint shstrName = shstr.Add(".shstrtab");
        var shstrBytes = shstr.ToArray();
        headers.Add(SectionHeader(shstrName, ShtStrtab, 0, Place(shstrBytes, 1), (ulong)shstrBytes.Length, 0, 0, 1, 0));

        ulong shoff = Place([], 8);
        var file = new MemoryStream();
        var eh = new byte[64];
        var h = eh.AsSpan();
        "\u007fELF"u8.CopyTo(h);
        h[4] = 2; h[5] = 1; h[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(h[16..], (ushort)ElfWriter.FileKind.Relocatable);
        BinaryPrimitives.WriteUInt16LittleEndian(h[18..], ElfFile.MachineX86_64);
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], 1);
        BinaryPrimitives.WriteUInt64LittleEndian(h[40..], shoff);
        BinaryPrimitives.WriteUInt16LittleEndian(h[52..], 64);
        BinaryPrimitives.WriteUInt16LittleEndian(h[58..], 64);
        BinaryPrimitives.WriteUInt16LittleEndian(h[60..], (ushort)headers.Count);
        BinaryPrimitives.WriteUInt16LittleEndian(h[62..], (ushort)shstrIndex);
        file.Write(eh);
        file.Write(body.ToArray());
        foreach (var sh in headers) file.Write(sh);
        return file.ToArray();
    }

    private static byte[] SectionHeader(uint name, uint type, ulong flags, ulong offset, ulong size, uint link, uint info, ulong align, ulong entsize)
    {
        var h = new byte[64];
        var s = h.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(s, name);
        BinaryPrimitives.WriteUInt32LittleEndian(s[4..], type);
        BinaryPrimitives.WriteUInt64LittleEndian(s[8..], flags);
        BinaryPrimitives.WriteUInt64LittleEndian(s[24..], offset);
        BinaryPrimitives.WriteUInt64LittleEndian(s[32..], size);
        BinaryPrimitives.WriteUInt32LittleEndian(s[40..], link);
        BinaryPrimitives.WriteUInt32LittleEndian(s[44..], info);
        BinaryPrimitives.WriteUInt64LittleEndian(s[48..], align);
        BinaryPrimitives.WriteUInt64LittleEndian(s[56..], entsize);
        return h;
    }

    private sealed class StringTable
    {
        private readonly MemoryStream _data = new();
        private readonly Dictionary<string, uint> _offsets = new() { [""] = 0 };

        public StringTable() => _data.WriteByte(0);

        public uint Add(string s)
        {
            if (_offsets.TryGetValue(s, out uint off)) return off;
            off = (uint)_data.Position;
            _data.Write(Encoding.ASCII.GetBytes(s + "\0"));
            _offsets[s] = off;
            return off;
        }

        public byte[] ToArray() => _data.ToArray();
    }
}
