namespace KhoEmu.Guest.Shared;

/// <summary>struct hvm_modlist_entry (start_info.h): paddr @0, size @8, cmdline_paddr @16, reserved @24; 32 bytes.</summary>
public struct HvmModlistEntry
{
    public const int Bytes = 32;
    public ulong Paddr, Size, CmdlinePaddr, Reserved;
}
