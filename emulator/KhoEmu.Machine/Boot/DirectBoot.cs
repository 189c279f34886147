using System.Buffers.Binary;
using System.Text;
using KhoEmu.Cpu.State;
using KhoEmu.Elf;
using KhoEmu.Memory;

namespace KhoEmu.Machine.Boot;

/// <summary>Raised when a kernel image cannot be booted; the message says why.</summary>
public sealed class BootException(string message) : Exception(message);

/// <summary>
/// Direct kernel boot as QEMU's -kernel does it: an ELF with a Xen PVH note (entry in 32-bit protected mode, paging
/// off, EBX = hvm_start_info), or a multiboot v1 kernel (EAX = 0x2BADB002, EBX = multiboot_info).
/// </summary>
public static class DirectBoot
{
    public const uint PvhNoteType = 18; // XEN_ELFNOTE_PHYS32_ENTRY
    public const uint HvmStartMagic = 0x336E_C578;
    public const uint MultibootMagic = 0x1BAD_B002, MultibootBootloaderMagic = 0x2BAD_B002;

    // Low-memory layout used for boot structures (below the usual 1 MiB kernel load address).
    private const ulong GdtAddr = 0x5000, StartInfoAddr = 0x6000, MemMapAddr = 0x6100, CmdlineAddr = 0x7000;

    /// <summary>
    /// Loads <paramref name="image"/> as QEMU's <c>-kernel</c> does: a multiboot v1 header in the first 8 KiB wins
    /// (its command line is the kernel's name, a space, then <paramref name="cmdline"/>, as QEMU passes it), then
    /// an ELF with a PVH note.
    /// </summary>
    public static void Load(PcMachine m, byte[] image, string cmdline, string kernelName = "kernel")
    {
        if (FindMultibootHeader(image, out int headerOffset))
        {
            BootMultiboot(m, image, headerOffset, kernelName + " " + cmdline);
            return;
        }
        if (ElfFile.LooksLikeElf(image))
        {
            ElfFile elf;
            try { elf = ElfFile.Parse(image); }
            catch (ElfFormatException e) { throw new BootException($"kernel ELF is malformed: {e.Message}"); }
            var pvh = elf.Notes().FirstOrDefault(n => n.Name == "Xen" && n.Type == PvhNoteType);
            if (pvh is not null)
            {
                ulong entry = pvh.Descriptor.Length >= 8 ? BinaryPrimitives.ReadUInt64LittleEndian(pvh.Descriptor)
                    : pvh.Descriptor.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(pvh.Descriptor)
                    : throw new BootException("PVH note has no entry address");
                LoadSegments(m, elf);
                BootPvh(m, entry, cmdline);
                return;
            }
        }
        throw new BootException("kernel has neither a PVH ELF note (Xen, type 18) nor a multiboot header");
    }

    private static void LoadSegments(PcMachine m, ElfFile elf)
    {
        foreach (var s in elf.Segments.Where(s => s.Type == ElfSegment.Load && s.MemorySize > 0))
        {
            if (!m.Memory.Write(s.PhysicalAddress, elf.SegmentData(s))
                || !m.Memory.Write(s.PhysicalAddress + s.FileSize, new byte[s.MemorySize - s.FileSize]))
                throw new BootException($"segment at physical 0x{s.PhysicalAddress:x} (+0x{s.MemorySize:x}) does not fit in guest RAM");
        }
    }

    /// <summary>32-bit flat protected mode with paging off, as both PVH and multiboot specify.</summary>
    private static void EnterFlatProtectedMode(PcMachine m, ulong entry)
    {
        // GDT: null, 32-bit code (0x08), data (0x10), 64-bit code (0x18).
        Span<byte> gdt = stackalloc byte[32];
        BinaryPrimitives.WriteUInt64LittleEndian(gdt[8..], 0x00CF_9B00_0000_FFFF);
        BinaryPrimitives.WriteUInt64LittleEndian(gdt[16..], 0x00CF_9300_0000_FFFF);
        BinaryPrimitives.WriteUInt64LittleEndian(gdt[24..], 0x00AF_9B00_0000_FFFF);
        m.Memory.Write(GdtAddr, gdt);
        var cpu = m.Cpu;
        cpu.SetControlRegisters(ControlBits.Cr0PE | ControlBits.Cr0ET, 0, 0, 0);
        cpu.SetDescriptorTables(GdtAddr, 31, 0, 0);
        var code = SegmentCache.FromDescriptor(0x08, 0x00CF_9B00_0000_FFFF);
        var data = SegmentCache.FromDescriptor(0x10, 0x00CF_9300_0000_FFFF);
        cpu.LoadSegment(SegReg.CS, code);
        foreach (int s in (ReadOnlySpan<int>)[SegReg.DS, SegReg.ES, SegReg.SS, SegReg.FS, SegReg.GS]) cpu.LoadSegment(s, data);
        cpu.SetRflags(Rflags.Reserved1);
        cpu.InstructionPointer = entry;
    }

    private static ulong WriteCmdline(PcMachine m, string cmdline)
    {
        var bytes = Encoding.ASCII.GetBytes(cmdline + "\0");
        if (bytes.Length > 4096) throw new BootException("command line longer than 4095 bytes");
        m.Memory.Write(CmdlineAddr, bytes);
        return CmdlineAddr;
    }

    private static void BootPvh(PcMachine m, ulong entry, string cmdline)
    {
        var map = m.Memory.MemoryMap();
        Span<byte> info = stackalloc byte[56];
        BinaryPrimitives.WriteUInt32LittleEndian(info, HvmStartMagic);
        BinaryPrimitives.WriteUInt32LittleEndian(info[4..], 1);                 // version 1 (has memmap)
        BinaryPrimitives.WriteUInt64LittleEndian(info[24..], WriteCmdline(m, cmdline));
        BinaryPrimitives.WriteUInt64LittleEndian(info[32..], m.AcpiRsdpAddress);    // rsdp_paddr
        BinaryPrimitives.WriteUInt64LittleEndian(info[40..], MemMapAddr);
        BinaryPrimitives.WriteUInt32LittleEndian(info[48..], (uint)map.Count);
        m.Memory.Write(StartInfoAddr, info);
        var entries = new byte[24 * map.Count];
        for (int i = 0; i < map.Count; i++)
        {
            var e = entries.AsSpan(24 * i);
            BinaryPrimitives.WriteUInt64LittleEndian(e, map[i].Address);
            BinaryPrimitives.WriteUInt64LittleEndian(e[8..], map[i].Length);
            BinaryPrimitives.WriteUInt32LittleEndian(e[16..], (uint)map[i].Type);
        }
        m.Memory.Write(MemMapAddr, entries);
        EnterFlatProtectedMode(m, entry);
        m.Cpu.SetGpr(KhoEmu.Cpu.Cpu.RBX, StartInfoAddr);
    }

    private static bool FindMultibootHeader(byte[] image, out int offset)
    {
        for (offset = 0; offset + 12 <= Math.Min(image.Length, 8192); offset += 4)
        {
            uint magic = BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(offset));
            uint flags = BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(offset + 4));
            uint check = BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(offset + 8));
            if (magic == MultibootMagic && magic + flags + check == 0) return true;
        }
        return false;
    }

    private static void BootMultiboot(PcMachine m, byte[] image, int hdr, string cmdline)
    {
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(hdr + 4));
        ulong entry;
        if ((flags & 0x10000) != 0)
        {
            // a.out kludge: header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr.
            if (hdr + 32 > image.Length) throw new BootException("multiboot header truncated");
            uint headerAddr = U32(image, hdr + 12), loadAddr = U32(image, hdr + 16), loadEnd = U32(image, hdr + 20);
            uint bssEnd = U32(image, hdr + 24);
            entry = U32(image, hdr + 28);
            long fileOff = hdr - (long)(headerAddr - loadAddr);
            long length = loadEnd == 0 ? image.Length - fileOff : loadEnd - loadAddr;
            if (fileOff < 0 || length < 0 || fileOff + length > image.Length) throw new BootException("multiboot load range lies outside the image");
            if (!m.Memory.Write(loadAddr, image.AsSpan((int)fileOff, (int)length)))
                throw new BootException($"multiboot image at 0x{loadAddr:x} does not fit in guest RAM");
            if (bssEnd > loadAddr + length && !m.Memory.Write(loadAddr + (ulong)length, new byte[bssEnd - loadAddr - length]))
                throw new BootException("multiboot bss does not fit in guest RAM");
        }
        else
        {
            ElfFile elf;
            try { elf = ElfFile.Parse(image); }
            catch (ElfFormatException e) { throw new BootException($"multiboot kernel ELF is malformed: {e.Message}"); }
            LoadSegments(m, elf);
            entry = elf.Entry;
        }

        // multiboot_info: flags, mem_lower, mem_upper, cmdline, mmap.
        var map = m.Memory.MemoryMap();
        const ulong infoAddr = StartInfoAddr;
        Span<byte> info = stackalloc byte[88];
        BinaryPrimitives.WriteUInt32LittleEndian(info, (1 << 0) | (1 << 2) | (1 << 6));
        BinaryPrimitives.WriteUInt32LittleEndian(info[4..], 639);
        ulong upper = (Math.Min(m.Memory.LowRamSize, 0xFFFF_FFFF) - 0x100000) / 1024;
        BinaryPrimitives.WriteUInt32LittleEndian(info[8..], (uint)upper);
        BinaryPrimitives.WriteUInt32LittleEndian(info[16..], (uint)WriteCmdline(m, cmdline));
        BinaryPrimitives.WriteUInt32LittleEndian(info[44..], (uint)(24 * map.Count));
        BinaryPrimitives.WriteUInt32LittleEndian(info[48..], (uint)MemMapAddr);
        m.Memory.Write(infoAddr, info);
        var entries = new byte[24 * map.Count];
        for (int i = 0; i < map.Count; i++)
        {
            var e = entries.AsSpan(24 * i);
            BinaryPrimitives.WriteUInt32LittleEndian(e, 20);
            BinaryPrimitives.WriteUInt64LittleEndian(e[4..], map[i].Address);
            BinaryPrimitives.WriteUInt64LittleEndian(e[12..], map[i].Length);
            BinaryPrimitives.WriteUInt32LittleEndian(e[20..], (uint)map[i].Type);
        }
        m.Memory.Write(MemMapAddr, entries);
        EnterFlatProtectedMode(m, entry);
        m.Cpu.SetGpr(KhoEmu.Cpu.Cpu.RAX, MultibootBootloaderMagic);
        m.Cpu.SetGpr(KhoEmu.Cpu.Cpu.RBX, infoAddr);
    }

    private static uint U32(byte[] b, int o) => BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(o));
}
