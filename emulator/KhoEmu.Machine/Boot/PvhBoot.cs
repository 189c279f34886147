using System.Runtime.InteropServices;
using KhoEmu.Guest.Shared;

namespace KhoEmu.Machine.Boot;

/// <summary>
/// The Xen PVH direct boot ABI (xen/include/public/arch-x86/hvm/start_info.h): 32-bit protected mode, paging off,
/// EBX = hvm_start_info version 1 (with the memory map). An initrd becomes module 0 of the module list.
/// </summary>
public static class PvhBoot
{
    internal static void Boot(PcMachine m, ulong entry, string cmdline, byte[]? initrd, IReadOnlyList<(ulong Start, ulong End)> kernel)
    {
        // One definition of the layout (guestkernel/shared), as the firmware and the guest kernel use it.
        var map = m.Memory.MemoryMap();
        var info = new HvmStartInfo
        {
            MagicValue = HvmStartInfo.Magic,
            Version = 1,
            CmdlinePaddr = DirectBoot.WriteCmdline(m, cmdline),
            RsdpPaddr = m.AcpiRsdpAddress,
            MemmapPaddr = BootLayout.MemoryMap,
            MemmapEntries = (uint)map.Count,
        };
        if (initrd is not null)
        {
            // QEMU gives the module no command line.
            var module = new HvmModlistEntry { Paddr = DirectBoot.LoadRamdisk(m, initrd, ulong.MaxValue, kernel), Size = (ulong)initrd.Length };
            m.Memory.Write(BootLayout.ModuleList, Bytes(ref module));
            info.NrModules = 1;
            info.ModlistPaddr = BootLayout.ModuleList;
        }
        m.Memory.Write(BootLayout.StartInfo, Bytes(ref info));
        var entries = new HvmMemmapEntry[map.Count];
        for (int i = 0; i < map.Count; i++)
            entries[i] = new HvmMemmapEntry { Addr = map[i].Address, Size = map[i].Length, Type = (uint)map[i].Type };
        m.Memory.Write(BootLayout.MemoryMap, MemoryMarshal.AsBytes(entries.AsSpan()));
        DirectBoot.EnterFlatProtectedMode(m, entry);
        m.Cpu.SetGpr(KhoEmu.Cpu.Cpu.RBX, BootLayout.StartInfo);
    }

    /// <summary>A start-info struct's bytes as the guest sees them (the host is little-endian, as x86 is).</summary>
    private static ReadOnlySpan<byte> Bytes<T>(ref T value) where T : unmanaged => MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(ref value, 1));
}
