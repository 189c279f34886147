namespace KhoEmu.Guest.Shared;

/// <summary>
/// struct hvm_start_info, version 1 (Xen's xen/include/public/arch-x86/hvm/start_info.h, the PVH boot ABI): the one
/// definition the host's direct boot (PvhBoot), the firmware and the guest kernel (reading it at boot, writing it for
/// a kexec) all use. Sequential layout, natural alignment, 56 bytes: magic @0, version @4, flags @8, nr_modules @12,
/// modlist_paddr @16, cmdline_paddr @24, rsdp_paddr @32, memmap_paddr @40, memmap_entries @48, reserved @52.
/// </summary>
public struct HvmStartInfo
{
    public const uint Magic = 0x336E_C578;   // "xEn3" with the high bit of 'x' set
    public const int Bytes = 56;
    public uint MagicValue, Version, Flags, NrModules;
    public ulong ModlistPaddr, CmdlinePaddr, RsdpPaddr, MemmapPaddr;
    public uint MemmapEntries, Reserved;
}
