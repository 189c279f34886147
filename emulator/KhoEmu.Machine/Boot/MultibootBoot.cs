using System.Buffers.Binary;
using System.Text;
using KhoEmu.Elf;

namespace KhoEmu.Machine.Boot;

/// <summary>
/// Multiboot v1 (the Multiboot Specification 0.6.96, section 3): 32-bit protected mode, paging off,
/// EAX = 0x2BADB002, EBX = multiboot_info. An initrd becomes the single boot module (info flags bit 3).
/// </summary>
public static class MultibootBoot
{
    private const uint InfoMemory = 1 << 0, InfoCmdline = 1 << 2, InfoMods = 1 << 3, InfoMmap = 1 << 6;

    /// <summary>The header is 32-bit aligned within the first 8192 bytes, magic + flags + checksum = 0 (spec 3.1.1).</summary>
    internal static bool FindHeader(byte[] image, out int offset)
    {
        for (offset = 0; offset + 12 <= Math.Min(image.Length, 8192); offset += 4)
        {
            uint magic = BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(offset));
            uint flags = BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(offset + 4));
            uint check = BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(offset + 8));
            if (magic == DirectBoot.MultibootMagic && magic + flags + check == 0) return true;
        }
        return false;
    }

    internal static void Boot(PcMachine m, byte[] image, int hdr, string cmdline, byte[]? initrd, string initrdName)
    {
        uint flags = DirectBoot.U32(image, hdr + 4);
        ulong entry;
        var kernel = new List<(ulong Start, ulong End)>();
        if ((flags & 0x10000) != 0)
        {
            // a.out kludge: header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr.
            if (hdr + 32 > image.Length) throw new BootException("multiboot header truncated");
            uint headerAddr = DirectBoot.U32(image, hdr + 12), loadAddr = DirectBoot.U32(image, hdr + 16);
            uint loadEnd = DirectBoot.U32(image, hdr + 20), bssEnd = DirectBoot.U32(image, hdr + 24);
            entry = DirectBoot.U32(image, hdr + 28);
            long fileOff = hdr - (long)(headerAddr - loadAddr);
            long length = loadEnd == 0 ? image.Length - fileOff : loadEnd - (long)loadAddr;
            if (fileOff < 0 || length < 0 || fileOff + length > image.Length) throw new BootException("multiboot load range lies outside the image");
            if (!DirectBoot.FitsInRam(m, loadAddr, (ulong)length) || !m.Memory.Write(loadAddr, image.AsSpan((int)fileOff, (int)length)))
                throw new BootException($"multiboot image at 0x{loadAddr:x} (+0x{length:x}) does not fit in guest RAM");
            ulong loadedEnd = loadAddr + (ulong)length;
            if (bssEnd > loadedEnd && (!DirectBoot.FitsInRam(m, loadedEnd, bssEnd - loadedEnd) || !DirectBoot.Zero(m, loadedEnd, bssEnd - loadedEnd)))
                throw new BootException($"multiboot bss up to 0x{bssEnd:x} does not fit in guest RAM");
            kernel.Add((loadAddr, Math.Max(loadedEnd, bssEnd)));
        }
        else
        {
            ElfFile elf;
            try { elf = ElfFile.Parse(image); }
            catch (ElfFormatException e) { throw new BootException($"multiboot kernel ELF is malformed: {e.Message}"); }
            DirectBoot.CheckLoadable(elf, "multiboot kernel");
            kernel = DirectBoot.LoadSegments(m, elf);
            entry = elf.Entry;
        }

        // multiboot_info (spec 3.3): flags @0, mem_lower @4, mem_upper @8, cmdline @16, mods_count @20,
        // mods_addr @24, mmap_length @44, mmap_addr @48.
        var map = m.Memory.MemoryMap();
        Span<byte> info = stackalloc byte[88];
        info.Clear();
        uint infoFlags = InfoMemory | InfoCmdline | InfoMmap;
        BinaryPrimitives.WriteUInt32LittleEndian(info[4..], 639);
        ulong upper = (Math.Min(m.Memory.LowRamSize, 0xFFFF_FFFF) - 0x100000) / 1024;
        BinaryPrimitives.WriteUInt32LittleEndian(info[8..], (uint)upper);
        BinaryPrimitives.WriteUInt32LittleEndian(info[16..], (uint)DirectBoot.WriteCmdline(m, cmdline));
        if (initrd is not null)
        {
            // Module structure: mod_start, mod_end (exclusive), string, reserved.
            var name = Encoding.ASCII.GetBytes(initrdName + "\0");
            if (name.Length > 4096) throw new BootException("initrd name longer than 4095 bytes");
            m.Memory.Write(BootLayout.ModuleString, name);
            ulong addr = DirectBoot.LoadRamdisk(m, initrd, 0xFFFF_FFFF, kernel);
            Span<byte> mod = stackalloc byte[16];
            mod.Clear();
            BinaryPrimitives.WriteUInt32LittleEndian(mod, (uint)addr);
            BinaryPrimitives.WriteUInt32LittleEndian(mod[4..], (uint)(addr + (ulong)initrd.Length));
            BinaryPrimitives.WriteUInt32LittleEndian(mod[8..], (uint)BootLayout.ModuleString);
            m.Memory.Write(BootLayout.ModuleList, mod);
            infoFlags |= InfoMods;
            BinaryPrimitives.WriteUInt32LittleEndian(info[20..], 1);
            BinaryPrimitives.WriteUInt32LittleEndian(info[24..], (uint)BootLayout.ModuleList);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(info, infoFlags);
        BinaryPrimitives.WriteUInt32LittleEndian(info[44..], (uint)(24 * map.Count));
        BinaryPrimitives.WriteUInt32LittleEndian(info[48..], (uint)BootLayout.MemoryMap);
        m.Memory.Write(BootLayout.StartInfo, info);
        var entries = new byte[24 * map.Count];
        for (int i = 0; i < map.Count; i++)
        {
            var e = entries.AsSpan(24 * i);
            BinaryPrimitives.WriteUInt32LittleEndian(e, 20);
            BinaryPrimitives.WriteUInt64LittleEndian(e[4..], map[i].Address);
            BinaryPrimitives.WriteUInt64LittleEndian(e[12..], map[i].Length);
            BinaryPrimitives.WriteUInt32LittleEndian(e[20..], (uint)map[i].Type);
        }
        m.Memory.Write(BootLayout.MemoryMap, entries);
        DirectBoot.EnterFlatProtectedMode(m, entry);
        m.Cpu.SetGpr(KhoEmu.Cpu.Cpu.RAX, DirectBoot.MultibootBootloaderMagic);
        m.Cpu.SetGpr(KhoEmu.Cpu.Cpu.RBX, BootLayout.StartInfo);
    }
}
