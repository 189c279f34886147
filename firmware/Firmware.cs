using System.Runtime;
using System.Runtime.CompilerServices;
using Internal.Runtime;
using Internal.Runtime.CompilerHelpers;
using KhoEmu.Guest.Platform;
using KhoEmu.Guest.Shared;

namespace KhoEmu.Firmware;

/// <summary>
/// The firmware body (64-bit, identity-mapped, running from RAM at 2 MiB): reads fw_cfg, builds the memory map,
/// loads the kernel ELF at its physical addresses and enters it through the PVH convention, as QEMU's -kernel does.
/// </summary>
public static unsafe class Firmware
{
    private const ulong StartInfoAddr = 0x6000, MemMapAddr = 0x6100, CmdlineAddr = 0x7000, CmdlineMax = 0x1000;
    private const int MaxEntries = 32;

    [RuntimeImport("*", "khoemu_enter_pvh")]
    [MethodImpl(MethodImplOptions.InternalCall)]
    private static extern void EnterPvh(ulong entry, ulong startInfo);

    private struct E820
    {
        public ulong Addr, Size;
        public uint Type;
    }

    private static E820* s_map;
    private static int s_count;
    private static ulong s_rsdp;

    [RuntimeExport("FirmwareMain")]
    private static void FirmwareMain()
    {
        LinkInfo link;
        Native.LinkInfo(&link);
        Heap.AddRegion((void*)link.EarlyHeap, (nuint)link.EarlyHeapSize);
        Panic.SetHandler(&OnPanic);
        StartupCodeHelpers.InitializeModules((void**)link.ModulesStart, (void**)link.ModulesEnd);
        Serial.Init();
        Console.WriteLine("KhoEmu firmware");
        if (!FwCfg.Present()) Panic.Fail("no fw_cfg device (signature \"QEMU\" not found)");

        s_map = (E820*)Heap.Allocate((nuint)(sizeof(E820) * MaxEntries));
        BuildMemoryMap();
        s_rsdp = AcpiLoader.Run();

        ushort key;
        uint size;
        if (!FwCfg.Find("opt/khoemu/kernel", out key, out size))
        {
            uint legacy = 0;
            FwCfg.Read(0x08, (byte*)&legacy, 4);          // FW_CFG_KERNEL_SIZE
            if (legacy == 0) Panic.Fail("no kernel: fw_cfg file opt/khoemu/kernel is missing");
            key = 0x11;                                   // FW_CFG_KERNEL_DATA
            size = legacy;
        }
        ulong buffer = PlaceBuffer(size);
        FwCfg.Read(key, (byte*)buffer, size);
        ulong entry = LoadElf((byte*)buffer, size, link.ImageStart, link.ImageEnd);

        WriteStartInfo();
        InitrdLoader.Load((byte*)buffer, size, link.ImageStart, link.ImageEnd, &IsRam, StartInfoAddr);
        Console.Write("firmware: starting the kernel at ");
        Console.WriteHex(entry);
        Console.Write('\n');
        EnterPvh(entry, StartInfoAddr);
    }

    private static void OnPanic(string reason)
    {
        Console.Write("firmware: ");
        Console.WriteLine(reason);
        Native.Outl(0xF4, 0x7E);
        Native.HaltForever();
    }

    private static void Add(ulong addr, ulong size, uint type)
    {
        if (s_count == MaxEntries || size == 0) return;
        s_map[s_count].Addr = addr;
        s_map[s_count].Size = size;
        s_map[s_count].Type = type;
        s_count++;
    }

    /// <summary>QEMU's "etc/e820" when present (20-byte entries), else one built from the RAM size (key 0x03).</summary>
    private static void BuildMemoryMap()
    {
        if (FwCfg.Find("etc/e820", out ushort key, out uint size) && size >= 20)
        {
            byte* raw = (byte*)Heap.Allocate(size);
            FwCfg.Read(key, raw, size);
            for (uint off = 0; off + 20 <= size; off += 20)
                Add(*(ulong*)(raw + off), *(ulong*)(raw + off + 8), *(uint*)(raw + off + 16));
            return;
        }
        ulong ram = 0;
        FwCfg.Read(0x03, (byte*)&ram, 8);
        if (ram < 16 << 20) Panic.Fail("less than 16 MiB of RAM");
        ulong low = ram < 0x8000_0000UL ? ram : 0x8000_0000UL;
        Add(0, 0x9FC00, 1);
        Add(0x9FC00, 0x400, 2);
        Add(0xF0000, 0x10000, 2);
        Add(0x100000, low - 0x100000, 1);
        if (ram > low) Add(0x1_0000_0000UL, ram - low, 1);
    }

    private static bool IsRam(ulong addr, ulong size)
    {
        for (int i = 0; i < s_count; i++)
            if (s_map[i].Type == 1 && addr >= s_map[i].Addr && addr + size <= s_map[i].Addr + s_map[i].Size) return true;
        return false;
    }

    /// <summary>
    /// Memory for the ACPI tables (the table-loader's HIGH zone), as SeaBIOS takes it: the top of the highest RAM range
    /// below 4 GiB (above 1 MiB), page-granular, marked reserved in the memory map the kernel gets. 0 when nothing fits.
    /// </summary>
    public static ulong AllocateHigh(ulong size, ulong align)
    {
        if (align < 4096) align = 4096;
        ulong best = 0, bestEnd = 0;
        for (int i = 0; i < s_count; i++)
        {
            ulong end = s_map[i].Addr + s_map[i].Size;
            if (s_map[i].Type != 1 || end > 0x1_0000_0000UL || end < size + (4 << 20)) continue;
            ulong start = (end - size) & ~(align - 1);
            if (start >= s_map[i].Addr && start >= 0x100000 && end > bestEnd) { best = start; bestEnd = end; }
        }
        if (best == 0) return 0;
        ReserveRam(best, bestEnd - best);
        return best;
    }

    /// <summary>Takes [addr, addr+size) out of the RAM range that holds it and lists it as reserved (type 2).</summary>
    public static void ReserveRam(ulong addr, ulong size)
    {
        for (int i = 0; i < s_count; i++)
        {
            ulong start = s_map[i].Addr, end = start + s_map[i].Size;
            if (s_map[i].Type != 1 || addr < start || addr + size > end) continue;
            if (addr + size < end) Add(addr + size, end - addr - size, 1);
            if (addr > start) s_map[i].Size = addr - start;
            else s_map[i] = s_map[--s_count];
            Add(addr, size, 2);
            return;
        }
    }

    /// <summary>A staging buffer for the kernel file: the top of the largest RAM range below 4 GiB.</summary>
    private static ulong PlaceBuffer(ulong size)
    {
        ulong best = 0;
        for (int i = 0; i < s_count; i++)
        {
            var e = s_map[i];
            ulong end = e.Addr + e.Size;
            if (e.Type != 1 || end > 0x1_0000_0000UL || e.Size < size + (2 << 20)) continue;
            ulong start = (end - size) & ~0x1F_FFFFUL;
            if (start > best && start >= e.Addr) best = start;
        }
        if (best == 0) Panic.Fail("no room to stage the kernel");
        return best;
    }

    private static bool Overlaps(ulong a, ulong asz, ulong b, ulong bsz) => a < b + bsz && b < a + asz;

    /// <summary>Checks and loads an ELF64 with a PVH note; returns the 32-bit entry point.</summary>
    private static ulong LoadElf(byte* e, ulong size, ulong fwStart, ulong fwEnd)
    {
        if (size < 64 || e[0] != 0x7F || e[1] != 'E' || e[2] != 'L' || e[3] != 'F' || e[4] != 2 || *(ushort*)(e + 18) != 62)
            Panic.Fail("kernel is not an x86-64 ELF64 image");
        ulong phoff = *(ulong*)(e + 32);
        ulong phnum = *(ushort*)(e + 56);
        if (*(ushort*)(e + 54) != 56 || phoff > size || phnum * 56 > size - phoff) Panic.Fail("kernel program headers are out of range");
        ulong entry = 0;
        for (ulong i = 0; i < phnum; i++)
        {
            byte* ph = e + phoff + i * 56;
            ulong off = *(ulong*)(ph + 8), paddr = *(ulong*)(ph + 24), filesz = *(ulong*)(ph + 32), memsz = *(ulong*)(ph + 40);
            if (off > size || filesz > size - off || filesz > memsz) Panic.Fail("kernel segment is outside the file");
            uint type = *(uint*)ph;
            if (type == 4 && PvhNote.FindEntry(e + off, filesz) is var found && found != 0) entry = found;
            if (type != 1 || memsz == 0) continue;
            if (!IsRam(paddr, memsz)) Panic.Fail("kernel segment is not in RAM");
            if (Overlaps(paddr, memsz, fwStart, fwEnd - fwStart) || Overlaps(paddr, memsz, (ulong)e, size))
                Panic.Fail("kernel segment overlaps the firmware or its staging buffer");
            Memory.Copy((void*)paddr, e + off, (nuint)filesz);
            Memory.Zero((void*)(paddr + filesz), (nuint)(memsz - filesz));
        }
        if (entry == 0) Panic.Fail("kernel has no PVH entry note (Xen, type 18)");
        return entry;
    }

    private static void WriteStartInfo()
    {
        var cmd = (byte*)CmdlineAddr;
        uint cmdSize = 0;
        FwCfg.Read(0x14, (byte*)&cmdSize, 4);             // FW_CFG_CMDLINE_SIZE (includes the NUL)
        if (cmdSize > CmdlineMax - 1) cmdSize = (uint)CmdlineMax - 1;
        if (cmdSize > 0) FwCfg.Read(0x15, cmd, cmdSize);
        else if (FwCfg.Find("opt/khoemu/cmdline", out ushort key, out uint fileSize))
        {
            // QEMU takes -append only with -kernel; with -bios the command line comes as a file.
            cmdSize = fileSize < CmdlineMax - 1 ? fileSize : (uint)CmdlineMax - 1;
            FwCfg.Read(key, cmd, cmdSize);
        }
        cmd[cmdSize] = 0;

        var map = (HvmMemmapEntry*)MemMapAddr;
        for (int i = 0; i < s_count; i++)
            map[i] = new HvmMemmapEntry { Addr = s_map[i].Addr, Size = s_map[i].Size, Type = s_map[i].Type };
        var si = (HvmStartInfo*)StartInfoAddr;
        Memory.Zero(si, (nuint)HvmStartInfo.Bytes);
        si->MagicValue = HvmStartInfo.Magic;
        si->Version = 1;                                 // version 1: has the memory map
        si->CmdlinePaddr = CmdlineAddr;
        si->RsdpPaddr = s_rsdp;                          // 0: no tables
        si->MemmapPaddr = MemMapAddr;
        si->MemmapEntries = (uint)s_count;
    }
}
