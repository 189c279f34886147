using System.Buffers.Binary;
using System.Text;

namespace KhoEmu.Elf;

/// <summary>
/// Writes small ELF64 x86-64 files: executables with PT_LOAD segments and notes. Relocatable objects come with the
/// guest toolchain.
/// </summary>
public sealed class ElfWriter(ElfWriter.FileKind kind)
{
    public enum FileKind : ushort { Relocatable = 1, Executable = 2 }

    private readonly List<(ulong Vaddr, ulong Paddr, byte[] Data, ulong MemSize, uint Flags)> _segments = [];
    private readonly List<(string Name, uint Type, byte[] Desc)> _notes = [];

    public ulong Entry { get; set; }

    public void AddSegment(ulong vaddr, ulong paddr, byte[] data, ulong memSize, uint flags) =>
        _segments.Add((vaddr, paddr, data, Math.Max(memSize, (ulong)data.Length), flags));

    public void AddNote(string name, uint type, byte[] desc) => _notes.Add((name, type, desc));

    public byte[] Build()
    {
        const int ehSize = 64, phSize = 56;
        int phnum = _segments.Count + (_notes.Count > 0 ? 1 : 0);
        var notes = new MemoryStream();
        foreach (var (name, type, desc) in _notes)
        {
            var n = Encoding.ASCII.GetBytes(name + "\0");
            var h = new byte[12];
            BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(0), (uint)n.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(4), (uint)desc.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(8), type);
            notes.Write(h);
            notes.Write(n);
            notes.Write(new byte[(4 - n.Length % 4) % 4]);
            notes.Write(desc);
            notes.Write(new byte[(4 - desc.Length % 4) % 4]);
        }
        ulong offset = (ulong)(ehSize + phSize * phnum);
        var body = new MemoryStream();
        var headers = new List<byte[]>();
        if (_notes.Count > 0)
        {
            headers.Add(ProgramHeader(ElfSegment.Note, 4, offset, 0, 0, (ulong)notes.Length, (ulong)notes.Length, 4));
            body.Write(notes.ToArray());
            offset += (ulong)notes.Length;
        }
        foreach (var s in _segments)
        {
            ulong pad = (4096 - offset % 4096) % 4096;
            body.Write(new byte[pad]);
            offset += pad;
            headers.Add(ProgramHeader(ElfSegment.Load, s.Flags, offset, s.Vaddr, s.Paddr, (ulong)s.Data.Length, s.MemSize, 4096));
            body.Write(s.Data);
            offset += (ulong)s.Data.Length;
        }
        var file = new byte[ehSize + phSize * phnum + body.Length];
        var e = file.AsSpan();
        "\u007fELF"u8.CopyTo(e);
        e[4] = 2; e[5] = 1; e[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(e[16..], (ushort)kind);
        BinaryPrimitives.WriteUInt16LittleEndian(e[18..], ElfFile.MachineX86_64);
        BinaryPrimitives.WriteUInt32LittleEndian(e[20..], 1);
        BinaryPrimitives.WriteUInt64LittleEndian(e[24..], Entry);
        BinaryPrimitives.WriteUInt64LittleEndian(e[32..], phnum > 0 ? (ulong)ehSize : 0);
        BinaryPrimitives.WriteUInt16LittleEndian(e[52..], ehSize);
        BinaryPrimitives.WriteUInt16LittleEndian(e[54..], phSize);
        BinaryPrimitives.WriteUInt16LittleEndian(e[56..], (ushort)phnum);
        BinaryPrimitives.WriteUInt16LittleEndian(e[58..], 64);
        for (int i = 0; i < headers.Count; i++) headers[i].CopyTo(file, ehSize + phSize * i);
        body.ToArray().CopyTo(file, ehSize + phSize * phnum);
        return file;
    }

    private static byte[] ProgramHeader(uint type, uint flags, ulong off, ulong vaddr, ulong paddr, ulong filesz, ulong memsz, ulong align)
    {
        var h = new byte[56];
        var s = h.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(s, type);
        BinaryPrimitives.WriteUInt32LittleEndian(s[4..], flags);
        BinaryPrimitives.WriteUInt64LittleEndian(s[8..], off);
        BinaryPrimitives.WriteUInt64LittleEndian(s[16..], vaddr);
        BinaryPrimitives.WriteUInt64LittleEndian(s[24..], paddr);
        BinaryPrimitives.WriteUInt64LittleEndian(s[32..], filesz);
        BinaryPrimitives.WriteUInt64LittleEndian(s[40..], memsz);
        BinaryPrimitives.WriteUInt64LittleEndian(s[48..], align);
        return h;
    }
}
