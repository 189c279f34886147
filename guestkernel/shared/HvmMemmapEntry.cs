namespace KhoEmu.Guest.Shared;

/// <summary>struct hvm_memmap_table_entry (start_info.h): addr @0, size @8, type @16 (E820 numbering), reserved @20; 24 bytes.</summary>
public struct HvmMemmapEntry
{
    public const uint Ram = 1;
    public const int Bytes = 24;
    public ulong Addr, Size;
    public uint Type, Reserved;
}
