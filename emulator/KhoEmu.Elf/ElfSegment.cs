namespace KhoEmu.Elf;

/// <summary>An ELF program header (segment).</summary>
public sealed record ElfSegment(uint Type, uint Flags, ulong Offset, ulong VirtualAddress, ulong PhysicalAddress,
    ulong FileSize, ulong MemorySize, ulong Align)
{
    public const uint Load = 1, Note = 4;
}
