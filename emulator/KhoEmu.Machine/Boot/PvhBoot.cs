using System.Buffers.Binary;

namespace KhoEmu.Machine.Boot;

/// <summary>
/// The Xen PVH direct boot ABI (xen/include/public/arch-x86/hvm/start_info.h): 32-bit protected mode, paging off,
/// EBX = hvm_start_info version 1 (with the memory map). An initrd becomes module 0 of the module list.
/// </summary>
public static class PvhBoot
{
    // struct hvm_start_info: magic u32 @0, version u32 @4, flags u32 @8, nr_modules u32 @12, modlist_paddr u64 @16,
    // cmdline_paddr u64 @24, rsdp_paddr u64 @32, memmap_paddr u64 @40, memmap_entries u32 @48, reserved u32 @52.
    private const int StartInfoSize = 56, ModlistEntrySize = 32, MemmapEntrySize = 24;

    internal static void Boot(PcMachine m, ulong entry, string cmdline, byte[]? initrd, IReadOnlyList<(ulong Start, ulong End)> kernel)
    {
        var map = m.Memory.MemoryMap();
        Span<byte> info = stackalloc byte[StartInfoSize];
        BinaryPrimitives.WriteUInt32LittleEndian(info, DirectBoot.HvmStartMagic);
        BinaryPrimitives.WriteUInt32LittleEndian(info[4..], 1);
        BinaryPrimitives.WriteUInt64LittleEndian(info[24..], DirectBoot.WriteCmdline(m, cmdline));
        BinaryPrimitives.WriteUInt64LittleEndian(info[32..], m.AcpiRsdpAddress);
        BinaryPrimitives.WriteUInt64LittleEndian(info[40..], BootLayout.MemoryMap);
        BinaryPrimitives.WriteUInt32LittleEndian(info[48..], (uint)map.Count);
        if (initrd is not null)
        {
            // hvm_modlist_entry {u64 paddr, u64 size, u64 cmdline_paddr, u64 reserved}; QEMU gives no module cmdline.
            ulong addr = DirectBoot.LoadRamdisk(m, initrd, ulong.MaxValue, kernel);
            Span<byte> mod = stackalloc byte[ModlistEntrySize];
            mod.Clear();
            BinaryPrimitives.WriteUInt64LittleEndian(mod, addr);
            BinaryPrimitives.WriteUInt64LittleEndian(mod[8..], (ulong)initrd.Length);
            m.Memory.Write(BootLayout.ModuleList, mod);
            BinaryPrimitives.WriteUInt32LittleEndian(info[12..], 1);
            BinaryPrimitives.WriteUInt64LittleEndian(info[16..], BootLayout.ModuleList);
        }
        m.Memory.Write(BootLayout.StartInfo, info);
        var entries = new byte[MemmapEntrySize * map.Count];
        for (int i = 0; i < map.Count; i++)
        {
            var e = entries.AsSpan(MemmapEntrySize * i);
            BinaryPrimitives.WriteUInt64LittleEndian(e, map[i].Address);
            BinaryPrimitives.WriteUInt64LittleEndian(e[8..], map[i].Length);
            BinaryPrimitives.WriteUInt32LittleEndian(e[16..], (uint)map[i].Type);
        }
        m.Memory.Write(BootLayout.MemoryMap, entries);
        DirectBoot.EnterFlatProtectedMode(m, entry);
        m.Cpu.SetGpr(KhoEmu.Cpu.Cpu.RBX, BootLayout.StartInfo);
    }
}
