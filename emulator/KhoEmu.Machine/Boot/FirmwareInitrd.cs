using KhoEmu.Devices.FwCfg;

namespace KhoEmu.Machine.Boot;

/// <summary>
/// An initrd for a firmware boot, published as QEMU's x86_load_linux does: fw_cfg FW_CFG_INITRD_ADDR (0x0a, the
/// address the firmware should copy it to), FW_CFG_INITRD_SIZE (0x0b) and FW_CFG_INITRD_DATA (0x12).
/// </summary>
public static class FirmwareInitrd
{
    internal static void Publish(PcMachine m, byte[] initrd)
    {
        // The firmware and its stack, page tables and staging live below 16 MiB; the kernel's segments are the
        // firmware's to check (it refuses an overlap), as QEMU's option ROMs trust the address QEMU chose.
        ulong addr = RamdiskPlacement.Place(m.Memory.MemoryMap(), (ulong)initrd.Length, 0xFFFF_FFFF, [(0, 16UL << 20)]);
        m.FwCfg.SetU32(FwCfgKeys.InitrdAddr, (uint)addr);
        m.FwCfg.SetU32(FwCfgKeys.InitrdSize, (uint)initrd.Length);
        m.FwCfg.SetItem(FwCfgKeys.InitrdData, initrd);
    }
}
