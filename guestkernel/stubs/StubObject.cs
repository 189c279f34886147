using Iced.Intel;
using KhoEmu.Elf;

namespace KhoEmu.GuestStubs;

/// <summary>
/// Builds one relocatable object from Iced-assembled chunks. Each chunk is assembled at its offset in its section,
/// so Iced resolves labels inside the chunk; references to other symbols go through 8-byte slots carrying an
/// R_X86_64_64 relocation (<see cref="Slot"/>), read RIP-relatively by the code.
/// </summary>
public sealed class StubObject
{
    private readonly ElfObjectWriter _elf = new();
    private readonly Dictionary<string, (ElfObjectWriter.Section Section, MemoryStream Data)> _sections = [];

    public ElfObjectWriter.Section Section(string name, ulong flags, ulong align = 16)
    {
        if (_sections.TryGetValue(name, out var s)) return s.Section;
        if (_bss.TryGetValue(name, out var b)) return b;
        var sec = _elf.AddSection(name, ElfObjectWriter.ShtProgbits, flags, align);
        _sections[name] = (sec, new MemoryStream());
        return sec;
    }

    public ElfObjectWriter.Section Text => Section(".text.khoemu", ElfObjectWriter.ShfAlloc | ElfObjectWriter.ShfExecInstr);
    public ElfObjectWriter.Section Data => Section(".data.khoemu", ElfObjectWriter.ShfAlloc | ElfObjectWriter.ShfWrite, 8);

    public ulong Offset(ElfObjectWriter.Section s) => (ulong)_sections[s.Name].Data.Length;

    /// <summary>Pads <paramref name="s"/> to <paramref name="align"/> with int3 (code) or zero (data).</summary>
    public void Align(ElfObjectWriter.Section s, int align)
    {
        var d = _sections[s.Name].Data;
        byte fill = (s.Flags & ElfObjectWriter.ShfExecInstr) != 0 ? (byte)0xCC : (byte)0;
        while (d.Length % align != 0) d.WriteByte(fill);
    }

    public void Bytes(ElfObjectWriter.Section s, ReadOnlySpan<byte> bytes) => _sections[s.Name].Data.Write(bytes);

    /// <summary>A chunk of code being assembled; call <see cref="Chunk.Emit"/> when done.</summary>
    public sealed class Chunk(StubObject owner, ElfObjectWriter.Section section, int bitness)
    {
        public Assembler A { get; } = new(bitness);
        private readonly List<(Label Label, string Name, bool Global)> _symbols = [];
        private readonly List<(Label Label, string Target)> _slots = [];

        /// <summary>Places a label here and exports it under <paramref name="name"/>.</summary>
        public Label Export(string name, bool global = true)
        {
            var l = A.CreateLabel(name);
            A.Label(ref l);
            _symbols.Add((l, name, global));
            return l;
        }

        /// <summary>
        /// A label for an 8-byte slot holding the address of <paramref name="symbol"/> (filled in by ld). Slots are
        /// placed after the chunk's code; reference them as <c>__qword_ptr[label]</c> (RIP-relative).
        /// </summary>
        public Label Slot(string symbol)
        {
            var l = A.CreateLabel();
            _slots.Add((l, symbol));
            return l;
        }

        public void Emit()
        {
                for (int i = 0; i < _slots.Count; i++)
            {
                var l = _slots[i].Label;
                A.Label(ref l);
                A.dq(0UL);
                _slots[i] = (l, _slots[i].Target);
            }
            var (sec, data) = owner._sections[section.Name];
            ulong baseOffset = (ulong)data.Length;
            var writer = new Writer(data);
            var result = A.Assemble(writer, baseOffset, BlockEncoderOptions.ReturnNewInstructionOffsets);
            foreach (var (label, name, global) in _symbols)
                owner._elf.Define(name, sec, result.GetLabelRIP(label), 0, global, ElfObjectWriter.SttFunc);
            foreach (var (label, target) in _slots)
                sec.AddRelocation(result.GetLabelRIP(label), target, ElfObjectWriter.RX86_64_64);
        }

        private sealed class Writer(Stream s) : CodeWriter
        {
            public override void WriteByte(byte value) => s.WriteByte(value);
        }
    }

    public Chunk Code(ElfObjectWriter.Section section, int bitness = 64) => new(this, section, bitness);

    public void Define(string name, ElfObjectWriter.Section section, ulong offset, ulong size = 0, bool global = true,
        byte type = ElfObjectWriter.SttObject) => _elf.Define(name, section, offset, size, global, type);

    public void Relocate(ElfObjectWriter.Section section, ulong offset, string symbol, uint type, long addend = 0) =>
        section.AddRelocation(offset, symbol, type, addend);

    private readonly Dictionary<string, ElfObjectWriter.Section> _bss = [];

    /// <summary>A zero-filled (NOBITS) section; the same name returns the same section.</summary>
    public ElfObjectWriter.Section Bss(string name, ulong size, ulong align)
    {
        if (_bss.TryGetValue(name, out var existing)) return existing;
        var sec = _elf.AddSection(name, ElfObjectWriter.ShtNobits, ElfObjectWriter.ShfAlloc | ElfObjectWriter.ShfWrite, align);
        sec.NobitsSize = size;
        _bss[name] = sec;
        return sec;
    }

    public ElfObjectWriter.Section Note(string name)
    {
        if (_sections.TryGetValue(name, out var s)) return s.Section;
        var sec = _elf.AddSection(name, 7 /* SHT_NOTE */, ElfObjectWriter.ShfAlloc, 4);
        _sections[name] = (sec, new MemoryStream());
        return sec;
    }

    public byte[] Build()
    {
        Section(".note.GNU-stack", 0, 1); // no executable stack needed

        foreach (var (sec, data) in _sections.Values) sec.Data = data.ToArray();
        return _elf.Build();
    }
}
