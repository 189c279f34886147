using System.Buffers.Binary;
using System.Text;
using KhoEmu.Memory;

namespace KhoEmu.Machine.Boot;

/// <summary>
/// The Linux x86 boot protocol's 64-bit entry (Documentation/arch/x86/boot.rst, "64-bit BOOT PROTOCOL"), so a
/// bzImage boots as with QEMU's -kernel: the protected-mode kernel at pref_address (0x100000 when not relocatable)
/// with init_size of RAM after it, boot_params (the zero page) built from the image's setup header, the command
/// line, the initrd and the e820 map, then long mode with RSI = boot_params at the kernel's start + 0x200.
/// </summary>
public static class LinuxBootProtocol
{
    // struct boot_params offsets (arch/x86/include/uapi/asm/bootparam.h).
    private const int BpAcpiRsdpAddr = 0x070, BpExtRamdiskImage = 0x0C0, BpExtRamdiskSize = 0x0C4, BpExtCmdLinePtr = 0x0C8;
    private const int BpE820Entries = 0x1E8, BpE820Table = 0x2D0, E820Max = 128, E820EntrySize = 20;
    private const int ZeroPageSize = 4096;
    private const byte LoaderUndefined = 0xFF; // type_of_loader: "boot loader ID undefined"

    /// <summary>True when the image carries a setup header (the "HdrS" signature at 0x202).</summary>
    public static bool HasSetupHeader(byte[] image) => BzImageHeader.HasSignature(image);

    internal static void Boot(PcMachine m, byte[] image, string cmdline, byte[]? initrd)
    {
        var h = BzImageHeader.Parse(image);
        var cmd = Encoding.ASCII.GetBytes(cmdline);
        if ((ulong)cmd.Length > h.CmdlineSize)
            throw new BootException($"command line is {cmd.Length} bytes, longer than the kernel's cmdline_size ({h.CmdlineSize})");
        if ((ulong)cmd.Length >= BootLayout.LinuxCmdlineMax)
            throw new BootException($"command line longer than {BootLayout.LinuxCmdlineMax - 1} bytes");

        var payload = image.AsSpan(h.SetupBytes);
        ulong load = 0x100000;
        if (h.Relocatable)
        {
            if (h.PrefAddress > ulong.MaxValue - h.KernelAlignment) throw new BootException($"bzImage pref_address 0x{h.PrefAddress:x} is beyond the guest's RAM");
            load = (h.PrefAddress + h.KernelAlignment - 1) & ~((ulong)h.KernelAlignment - 1);
        }
        // The kernel decompresses in place: it needs init_size bytes from its load address (at least the file's part).
        ulong span = Math.Max(h.InitSize, (ulong)payload.Length);
        if (!FitsInRam(m.Memory.MemoryMap(), load, span))
            throw new BootException($"bzImage needs 0x{span:x} bytes of RAM (init_size) at 0x{load:x}, beyond the guest's RAM");
        if (load < BootLayout.End) throw new BootException($"bzImage load address 0x{load:x} overlaps the boot structures below 0x{BootLayout.End:x}");
        m.Memory.Write(load, payload);

        var zp = new byte[ZeroPageSize];
        image.AsSpan(BzImageHeader.OffSetupSects, h.HeaderEnd - BzImageHeader.OffSetupSects).CopyTo(zp.AsSpan(BzImageHeader.OffSetupSects));
        zp[BzImageHeader.OffTypeOfLoader] = LoaderUndefined;
        zp[BzImageHeader.OffLoadflags] = (byte)(h.Loadflags | BzImageHeader.CanUseHeap);
        // heap_end_ptr counts from the real-mode start (boot_params here) less 0x200, ending where the command line starts.
        Set16(zp, BzImageHeader.OffHeapEndPtr, (ushort)(BootLayout.LinuxCmdline - BootLayout.BootParams - 0x200));
        Set32(zp, BzImageHeader.OffCmdLinePtr, (uint)BootLayout.LinuxCmdline);
        Set32(zp, BpExtCmdLinePtr, (uint)(BootLayout.LinuxCmdline >> 32));
        Set64(zp, BzImageHeader.OffSetupData, 0);
        Set64(zp, BpAcpiRsdpAddr, m.AcpiRsdpAddress);

        var cmdz = new byte[cmd.Length + 1];
        cmd.CopyTo(cmdz, 0);
        m.Memory.Write(BootLayout.LinuxCmdline, cmdz);

        if (initrd is not null)
        {
            // initrd_addr_max is the highest byte address; XLF_CAN_BE_LOADED_ABOVE_4G lifts it (QEMU clamps to low RAM anyway).
            ulong max = (h.Xloadflags & BzImageHeader.XlfCanBeLoadedAbove4G) != 0 ? 0xFFFF_FFFF : h.InitrdAddrMax;
            ulong addr = DirectBoot.LoadRamdisk(m, initrd, max, [(load, load + span)], BootLayout.LinuxInitrdHeadroom);
            Set32(zp, BzImageHeader.OffRamdiskImage, (uint)addr);
            Set32(zp, BzImageHeader.OffRamdiskSize, (uint)initrd.Length);
            Set32(zp, BpExtRamdiskImage, (uint)(addr >> 32));
            Set32(zp, BpExtRamdiskSize, (uint)((ulong)initrd.Length >> 32));
        }
        else
        {
            Set32(zp, BzImageHeader.OffRamdiskImage, 0);
            Set32(zp, BzImageHeader.OffRamdiskSize, 0);
        }

        var map = m.Memory.MemoryMap();
        if (map.Count > E820Max) throw new BootException($"memory map has {map.Count} entries, boot_params holds {E820Max}");
        zp[BpE820Entries] = (byte)map.Count;
        for (int i = 0; i < map.Count; i++)
        {
            int o = BpE820Table + E820EntrySize * i;
            Set64(zp, o, map[i].Address);
            Set64(zp, o + 8, map[i].Length);
            Set32(zp, o + 16, (uint)map[i].Type);
        }
        m.Memory.Write(BootLayout.BootParams, zp);

        LongModeEntry.Enter(m, load + BzImageHeader.Entry64Offset);
        m.Cpu.SetGpr(KhoEmu.Cpu.Cpu.RSI, BootLayout.BootParams);
    }

    private static bool FitsInRam(IReadOnlyList<E820Entry> map, ulong start, ulong length) =>
        start + length >= start && map.Any(e => e.Type == E820Type.Ram && start >= e.Address && start + length <= e.Address + e.Length);

    private static void Set16(byte[] b, int o, ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(o), v);
    private static void Set32(byte[] b, int o, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(o), v);
    private static void Set64(byte[] b, int o, ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(o), v);
}
