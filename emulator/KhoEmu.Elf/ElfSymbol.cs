namespace KhoEmu.Elf;

/// <summary>A symbol table entry; <see cref="Info"/> is st_info (binding in the high nibble, type in the low).</summary>
public sealed record ElfSymbol(string Name, ulong Value, ulong Size, byte Info, ushort SectionIndex)
{
    public int Type => Info & 0xF;
    public int Binding => Info >> 4;
}
