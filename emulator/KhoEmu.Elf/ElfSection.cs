namespace KhoEmu.Elf;

/// <summary>An ELF section header with its resolved name.</summary>
public sealed record ElfSection(string Name, uint Type, ulong Flags, ulong Address, ulong Offset, ulong Size, ulong EntrySize);
