namespace KhoEmu.Devices.FwCfg;

/// <summary>fw_cfg selector keys (QEMU docs/specs/fw_cfg.rst).</summary>
public static class FwCfgKeys
{
    public const ushort Signature = 0x00, Id = 0x01, RamSize = 0x03, NbCpus = 0x05, MaxCpus = 0x0F;
    public const ushort KernelAddr = 0x07, KernelSize = 0x08, KernelEntry = 0x10, KernelData = 0x11;
    public const ushort InitrdAddr = 0x0A, InitrdSize = 0x0B, InitrdData = 0x12;
    public const ushort CmdlineAddr = 0x13, CmdlineSize = 0x14, CmdlineData = 0x15;
    public const ushort SetupAddr = 0x16, SetupSize = 0x17, SetupData = 0x18;
    public const ushort FileDir = 0x19;
    public const ushort FileFirst = 0x20;
}
