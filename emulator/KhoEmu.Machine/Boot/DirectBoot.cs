using System.Buffers.Binary;
using System.Text;
using KhoEmu.Cpu.State;
using KhoEmu.Elf;

namespace KhoEmu.Machine.Boot;

/// <summary>
/// Direct kernel boot as QEMU's -kernel/-initrd do it. The image kind is detected in QEMU's order: a multiboot v1
/// header in the first 8 KiB (<see cref="MultibootBoot"/>), then a bzImage setup header with "HdrS"
/// (<see cref="LinuxBootProtocol"/>, 64-bit entry), then an ELF with a Xen PVH note (<see cref="PvhBoot"/>).
/// </summary>
public static class DirectBoot
{
    public const uint PvhNoteType = 18; // XEN_ELFNOTE_PHYS32_ENTRY
    public const uint HvmStartMagic = 0x336E_C578;
    public const uint MultibootMagic = 0x1BAD_B002, MultibootBootloaderMagic = 0x2BAD_B002;

    /// <summary>
    /// Loads <paramref name="image"/> (and <paramref name="initrd"/>, when given) and sets up the CPU at the kernel's
    /// entry. A multiboot kernel's command line is its name, a space, then <paramref name="cmdline"/>, as QEMU
    /// passes it; its module string is <paramref name="initrdName"/>.
    /// </summary>
    public static void Load(PcMachine m, byte[] image, string cmdline, string kernelName = "kernel",
        byte[]? initrd = null, string initrdName = "initrd")
    {
        if (MultibootBoot.FindHeader(image, out int headerOffset))
        {
            MultibootBoot.Boot(m, image, headerOffset, kernelName + " " + cmdline, initrd, initrdName);
            return;
        }
        if (LinuxBootProtocol.HasSetupHeader(image))
        {
            LinuxBootProtocol.Boot(m, image, cmdline, initrd);
            return;
        }
        if (ElfFile.LooksLikeElf(image))
        {
            ElfFile elf;
            IReadOnlyList<ElfNote> notes;
            try { elf = ElfFile.Parse(image); notes = elf.Notes(); }
            catch (ElfFormatException e) { throw new BootException($"kernel ELF is malformed: {e.Message}"); }
            CheckLoadable(elf, "kernel");
            var pvh = notes.FirstOrDefault(n => n.Name == "Xen" && n.Type == PvhNoteType);
            if (pvh is not null)
            {
                ulong entry = pvh.Descriptor.Length >= 8 ? BinaryPrimitives.ReadUInt64LittleEndian(pvh.Descriptor)
                    : pvh.Descriptor.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(pvh.Descriptor)
                    : throw new BootException("PVH note has no entry address");
                var loaded = LoadSegments(m, elf);
                PvhBoot.Boot(m, entry, cmdline, initrd, loaded);
                return;
            }
        }
        throw new BootException("kernel has neither a multiboot header, a bzImage setup header (HdrS) nor a PVH ELF note (Xen, type 18)");
    }

    /// <summary>
    /// Refuses ELF files QEMU's load_elf refuses: a machine other than x86-64 or i386 ("wrong ELF machine"), and
    /// files with nothing to load (no program headers or no PT_LOAD segment).
    /// </summary>
    internal static void CheckLoadable(ElfFile elf, string what)
    {
        if (elf.Machine is not (ElfFile.MachineX86_64 or ElfFile.MachineX86))
            throw new BootException($"{what} ELF is for machine {elf.Machine}, not x86-64 (62) or i386 (3): wrong ELF machine");
        if (elf.Segments.Count == 0) throw new BootException($"{what} ELF has no program headers (e_phnum = 0)");
        if (!elf.Segments.Any(s => s.Type == ElfSegment.Load && s.MemorySize > 0))
            throw new BootException($"{what} ELF has no loadable (PT_LOAD) segment");
    }

    /// <summary>Loads the ELF's PT_LOAD segments at their physical addresses; returns the ranges they occupy.</summary>
    internal static List<(ulong Start, ulong End)> LoadSegments(PcMachine m, ElfFile elf)
    {
        var loaded = new List<(ulong, ulong)>();
        foreach (var s in elf.Segments.Where(s => s.Type == ElfSegment.Load && s.MemorySize > 0))
        {
            // Checked before anything is written or allocated: sizes near 2^64 must neither wrap nor allocate.
            if (s.PhysicalAddress > ulong.MaxValue - s.MemorySize || !FitsInRam(m, s.PhysicalAddress, s.MemorySize)
                || !m.Memory.Write(s.PhysicalAddress, elf.SegmentData(s))
                || !Zero(m, s.PhysicalAddress + s.FileSize, s.MemorySize - s.FileSize))
                throw new BootException($"segment at physical 0x{s.PhysicalAddress:x} (+0x{s.MemorySize:x}) does not fit in guest RAM");
            loaded.Add((s.PhysicalAddress, s.PhysicalAddress + s.MemorySize));
        }
        return loaded;
    }

    /// <summary>Whether [address, address + length) lies within the guest's RAM size (no wrap).</summary>
    internal static bool FitsInRam(PcMachine m, ulong address, ulong length) =>
        address <= ulong.MaxValue - length
        && (address + length <= m.Memory.LowRamSize
            || address >= 1UL << 32 && address + length - (1UL << 32) <= m.Memory.HighRamSize);

    /// <summary>Zeroes guest RAM in bounded chunks (a bss can be far larger than any one host array should be).</summary>
    internal static bool Zero(PcMachine m, ulong address, ulong length)
    {
        var chunk = new byte[(int)Math.Min(length, 1 << 20)];
        for (ulong done = 0; done < length; done += (ulong)chunk.Length)
            if (!m.Memory.Write(address + done, chunk.AsSpan(0, (int)Math.Min((ulong)chunk.Length, length - done)))) return false;
        return true;
    }

    /// <summary>32-bit flat protected mode with paging off, as both PVH and multiboot specify.</summary>
    internal static void EnterFlatProtectedMode(PcMachine m, ulong entry)
    {
        // GDT: null, 32-bit code (0x08), data (0x10), 64-bit code (0x18).
        Span<byte> gdt = stackalloc byte[32];
        BinaryPrimitives.WriteUInt64LittleEndian(gdt[8..], 0x00CF_9B00_0000_FFFF);
        BinaryPrimitives.WriteUInt64LittleEndian(gdt[16..], 0x00CF_9300_0000_FFFF);
        BinaryPrimitives.WriteUInt64LittleEndian(gdt[24..], 0x00AF_9B00_0000_FFFF);
        m.Memory.Write(BootLayout.Gdt, gdt);
        var cpu = m.Cpu;
        cpu.SetControlRegisters(ControlBits.Cr0PE | ControlBits.Cr0ET, 0, 0, 0);
        cpu.SetDescriptorTables(BootLayout.Gdt, 31, 0, 0);
        var code = SegmentCache.FromDescriptor(0x08, 0x00CF_9B00_0000_FFFF);
        var data = SegmentCache.FromDescriptor(0x10, 0x00CF_9300_0000_FFFF);
        cpu.LoadSegment(SegReg.CS, code);
        foreach (int s in (ReadOnlySpan<int>)[SegReg.DS, SegReg.ES, SegReg.SS, SegReg.FS, SegReg.GS]) cpu.LoadSegment(s, data);
        cpu.SetRflags(Rflags.Reserved1);
        cpu.InstructionPointer = entry;
    }

    /// <summary>Writes the PVH/multiboot command line (NUL terminated) at <see cref="BootLayout.Cmdline"/>.</summary>
    internal static ulong WriteCmdline(PcMachine m, string cmdline)
    {
        var bytes = Encoding.ASCII.GetBytes(cmdline + "\0");
        if ((ulong)bytes.Length > BootLayout.CmdlineMax) throw new BootException($"command line longer than {BootLayout.CmdlineMax - 1} bytes");
        m.Memory.Write(BootLayout.Cmdline, bytes);
        return BootLayout.Cmdline;
    }

    /// <summary>
    /// Places and copies the initrd (see <see cref="RamdiskPlacement"/>); the low boot structures are always avoided.
    /// Returns its address.
    /// </summary>
    internal static ulong LoadRamdisk(PcMachine m, byte[] initrd, ulong maxAddress, IEnumerable<(ulong Start, ulong End)> occupied,
        ulong headroom = BootLayout.InitrdHeadroom)
    {
        var avoid = new List<(ulong, ulong)>(occupied) { (0, BootLayout.End) };
        ulong addr = RamdiskPlacement.Place(m.Memory.MemoryMap(), (ulong)initrd.Length, maxAddress, avoid, headroom);
        if (!m.Memory.Write(addr, initrd)) throw new BootException($"initrd at 0x{addr:x} does not fit in guest RAM");
        return addr;
    }

    internal static uint U32(byte[] b, int o) => BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(o));
}
