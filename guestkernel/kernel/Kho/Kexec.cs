using Internal.Runtime;
using KhoEmu.Guest.Platform;
using KhoEmu.Kernel.Boot;
using KhoEmu.Kernel.Drivers;
using KhoEmu.Kernel.Fs;
using KhoEmu.Kernel.Mm;
using KhoEmu.Guest.Shared;

namespace KhoEmu.Kernel.Kho;

/// <summary>
/// kexec_file_load and reboot(LINUX_REBOOT_CMD_KEXEC). Loading places the new kernel image (relocated to a 2 MiB
/// boundary) and its boot information inside KHO scratch, so nothing moves after the jump; rebooting freezes the
/// live-update files, finalizes KHO and jumps through a trampoline with page tables built for it.
/// </summary>
public static unsafe class Kexec
{
    private static bool s_loaded;
    private static ulong s_entry, s_startInfo;
    public static ulong LoadedImagePhys;

    /// <summary>Loads <paramref name="file"/> (an ELF64 kernel with a PVH note) with <paramref name="cmdline"/>.</summary>
    public static long Load(BufferFile file, byte* cmdline, int cmdlineLength)
    {
        if (PageAllocator.ScratchCount == 0) return -Errno.ENOMEM;
        byte* e = file.Data;
        ulong size = file.Size;
        if (size < 64 || e[0] != 0x7F || e[1] != 'E' || e[2] != 'L' || e[3] != 'F' || e[4] != 2 || *(ushort*)(e + 18) != 62)
            return -Errno.ENOEXEC;
        ulong phoff = *(ulong*)(e + 32), phnum = *(ushort*)(e + 56);
        if (*(ushort*)(e + 54) != 56 || phoff > size || phnum * 56 > size - phoff) return -Errno.ENOEXEC;
        ulong low = ulong.MaxValue, high = 0, pvh = 0;
        for (ulong i = 0; i < phnum; i++)
        {
            byte* ph = e + phoff + i * 56;
            uint type = *(uint*)ph;
            ulong off = *(ulong*)(ph + 8), paddr = *(ulong*)(ph + 24), filesz = *(ulong*)(ph + 32), memsz = *(ulong*)(ph + 40);
            if (off > size || filesz > size - off || filesz > memsz) return -Errno.ENOEXEC;
            if (type == 4) pvh = PvhNote.FindEntry(e + off, filesz);
            if (type != 1 || memsz == 0) continue;
            if (paddr < low) low = paddr;
            if (paddr + memsz > high) high = paddr + memsz;
        }
        if (pvh == 0 || low == ulong.MaxValue || pvh < low || pvh >= high) return -Errno.ENOEXEC;

        ulong span = Phys.AlignUp(high - low, 2UL << 20);
        ulong dest = PageAllocator.AllocateScratch(span / Phys.PageSize, 512);
        if (dest == 0) return -Errno.ENOMEM;
        for (ulong i = 0; i < phnum; i++)
        {
            byte* ph = e + phoff + i * 56;
            if (*(uint*)ph != 1) continue;
            ulong off = *(ulong*)(ph + 8), paddr = *(ulong*)(ph + 24), filesz = *(ulong*)(ph + 32);
            Native.MemCopy(Phys.ToVirt(dest + (paddr - low)), e + off, filesz);
        }

        // Boot information in one scratch page: start info, module list, module name, memory map, command line.
        ulong info = PageAllocator.AllocateScratch(1);
        if (info == 0) return -Errno.ENOMEM;
        byte* p = (byte*)Phys.ToVirt(info);
        var si = (HvmStartInfo*)p;
        *si = default;
        si->MagicValue = HvmStartInfo.Magic;
        si->Version = 1;
        si->ModlistPaddr = info + 64;
        si->CmdlinePaddr = info + 2048;
        si->MemmapPaddr = info + 256;
        si->MemmapEntries = (uint)BootInfo.MemMapCount;
        const string name = Kho.ModuleName;
        for (int i = 0; i < name.Length; i++) p[96 + i] = (byte)name[i];
        ((HvmModlistEntry*)(p + 64))->CmdlinePaddr = info + 96;   // module cmdline: "khoemu-kho"
        for (int i = 0; i < BootInfo.MemMapCount; i++) ((HvmMemmapEntry*)(p + 256))[i] = BootInfo.MemMap[i];
        int n = cmdlineLength < 2047 ? cmdlineLength : 2047;
        Native.MemCopy(p + 2048, cmdline, (ulong)n);
        p[2048 + n] = 0;

        s_entry = dest + (pvh - low);
        s_startInfo = info;
        LoadedImagePhys = dest;
        s_loaded = true;
        Console.Write("kexec: loaded ");
        Console.WriteDec((size + 1023) / 1024);
        Console.Write(" KiB kernel at ");
        Console.WriteHex(dest);
        Console.WriteLine(" (inside KHO scratch)");
        return 0;
    }

    /// <summary>reboot(KEXEC): freeze, finalize, jump. Returns only on failure (-errno), with everything unfrozen.</summary>
    public static long Execute()
    {
        if (!s_loaded) return -Errno.EINVAL;
        Oracle.BlackoutBegin();
        long r = Luo.LiveUpdate.Freeze();
        if (r != 0) return r;
        ulong descriptor = Kho.Finalize();
        if (descriptor == 0)
        {
            Luo.LiveUpdate.Unfreeze();
            return -Errno.ENOMEM;
        }
        var info = (HvmStartInfo*)Phys.ToVirt(s_startInfo);
        info->NrModules = 1;                                    // the KHO descriptor
        var module = (HvmModlistEntry*)Phys.ToVirt(info->ModlistPaddr);
        module->Paddr = descriptor;
        module->Size = Phys.PageSize;

        // Trampoline page and tables (identity map of the low 4 GiB + the kernel half), all in scratch.
        ulong tramp = PageAllocator.AllocateScratch(1);
        ulong tables = PageAllocator.AllocateScratch(6);
        if (tramp == 0 || tables == 0)
        {
            Luo.LiveUpdate.Unfreeze();
            return -Errno.ENOMEM;
        }
        Native.MemCopy(Phys.ToVirt(tramp), (void*)Native.KexecTemplate(), 0x200);
        byte* t = (byte*)Phys.ToVirt(tramp);
        *(ushort*)(t + 0x1C0) = 4 * 8 - 1;
        *(ulong*)(t + 0x1C2) = tramp + 0x180;
        var pml4 = (ulong*)Phys.ToVirt(tables);
        var pdpt = (ulong*)Phys.ToVirt(tables + 0x1000);
        var current = (ulong*)Phys.ToVirt(Native.ReadCr3() & 0x000F_FFFF_FFFF_F000);
        for (int i = 256; i < 512; i++) pml4[i] = current[i];
        pml4[0] = (tables + 0x1000) | 3;
        for (ulong i = 0; i < 4; i++)
        {
            pdpt[i] = (tables + 0x2000 + i * 0x1000) | 3;
            var pd = (ulong*)Phys.ToVirt(tables + 0x2000 + i * 0x1000);
            for (ulong j = 0; j < 512; j++) pd[j] = ((i * 512 + j) << 21) | 0x83;
        }
        if (Drivers.Vtd.Enabled && !Luo.IommufdHandler.AnyPreserved)
        {
            // Nothing asked for the IOMMU to survive: quiesce the DMA engine and turn translation off, so the next
            // kernel starts with a quiet machine.
            if (Drivers.DmaEngineDriver.Probe()) Drivers.DmaEngineDriver.Stop();
            Drivers.Vtd.Disable();
        }
        Oracle.Handover(descriptor);
        Console.Write("kexec: jumping to the new kernel at ");
        Console.WriteHex(s_entry);
        Console.Write('\n');
        Native.Cli();
        LocalApic.StopTimer();
        Native.KexecJump(tramp, tables, s_entry, s_startInfo);
        return -Errno.EIO; // not reached
    }
}
