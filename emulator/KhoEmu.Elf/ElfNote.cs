namespace KhoEmu.Elf;

/// <summary>A note: owner name, type and descriptor bytes.</summary>
public sealed record ElfNote(string Name, uint Type, byte[] Descriptor);
