using Internal.Runtime;
using KhoEmu.Guest.Platform;
using KhoEmu.Guest.Shared;

namespace KhoEmu.Firmware;

/// <summary>
/// QEMU's -initrd for a firmware boot: fw_cfg FW_CFG_INITRD_ADDR (0x0a), FW_CFG_INITRD_SIZE (0x0b) and
/// FW_CFG_INITRD_DATA (0x12), as QEMU's option ROMs read them. The initrd is copied to the address the machine
/// chose and handed to the kernel as PVH module 0 (hvm_modlist_entry {paddr, size, cmdline_paddr, reserved}).
/// </summary>
public static unsafe class InitrdLoader
{
    private const ushort KeyInitrdAddr = 0x0A, KeyInitrdSize = 0x0B, KeyInitrdData = 0x12;
    private const ulong ModlistOffset = 0x80;   // the module list follows hvm_start_info (56 bytes)
    private const ulong LowMemoryEnd = 0x100000;

    /// <summary>
    /// Loads the initrd, if the machine has one, and fills hvm_start_info's nr_modules and
    /// modlist_paddr. Must run after the kernel is loaded (the staged kernel file is still read here, and the
    /// initrd may overwrite it) and after the start info is written. Panics when the address is unusable.
    /// </summary>
    public static void Load(byte* kernelFile, ulong kernelFileSize, ulong fwStart, ulong fwEnd,
        delegate*<ulong, ulong, bool> isRam, ulong startInfo)
    {
        uint addr = 0, size = 0;
        FwCfg.Read(KeyInitrdSize, (byte*)&size, 4);
        if (size == 0) return;
        FwCfg.Read(KeyInitrdAddr, (byte*)&addr, 4);
        if ((addr & 0xFFF) != 0 || !isRam(addr, size)) Panic.Fail("initrd address from fw_cfg is not page-aligned RAM");
        if (addr < LowMemoryEnd || Overlaps(addr, size, fwStart, fwEnd - fwStart) || OverlapsKernel(kernelFile, kernelFileSize, addr, size))
            Panic.Fail("initrd address from fw_cfg overlaps the firmware, low memory or the kernel");
        FwCfg.Read(KeyInitrdData, (byte*)addr, size);

        *(HvmModlistEntry*)(startInfo + ModlistOffset) = new HvmModlistEntry { Paddr = addr, Size = size };
        var si = (HvmStartInfo*)startInfo;
        si->NrModules = 1;
        si->ModlistPaddr = startInfo + ModlistOffset;
        Console.Write("firmware: initrd of ");
        Console.WriteHex(size);
        Console.Write(" bytes at ");
        Console.WriteHex(addr);
        Console.Write('\n');
    }

    private static bool Overlaps(ulong a, ulong asz, ulong b, ulong bsz) => a < b + bsz && b < a + asz;

    /// <summary>True when [addr, addr+size) meets a PT_LOAD segment of the (already checked) kernel ELF64.</summary>
    private static bool OverlapsKernel(byte* e, ulong fileSize, ulong addr, ulong size)
    {
        ulong phoff = *(ulong*)(e + 32), phnum = *(ushort*)(e + 56);
        for (ulong i = 0; i < phnum && phoff + (i + 1) * 56 <= fileSize; i++)
        {
            byte* ph = e + phoff + i * 56;
            if (*(uint*)ph == 1 && Overlaps(addr, size, *(ulong*)(ph + 24), *(ulong*)(ph + 40))) return true;
        }
        return false;
    }
}
