namespace KhoEmu.Machine.Boot;

/// <summary>
/// Where the direct-boot loaders put their structures: all in conventional memory below 640 KiB, which Linux
/// keeps for itself (it reserves the first 1 MiB) and copies boot_params and the command line out of before it
/// allocates anything. The Linux addresses are QEMU's (real-mode area 0x10000, command line 0x20000).
/// See docs/boot.md for the whole map.
/// </summary>
public static class BootLayout
{
    /// <summary>GDT of every protocol (PVH/multiboot: 0x08 code32, 0x10 data, 0x18 code64; Linux: 0x10 code64, 0x18 data).</summary>
    public const ulong Gdt = 0x5000;
    /// <summary>hvm_start_info (PVH) or multiboot_info.</summary>
    public const ulong StartInfo = 0x6000;
    /// <summary>PVH hvm_modlist_entry array / multiboot module list.</summary>
    public const ulong ModuleList = 0x6080;
    /// <summary>PVH hvm_memmap_table_entry array / multiboot mmap (up to 128 entries of 24 bytes).</summary>
    public const ulong MemoryMap = 0x6100;
    /// <summary>PVH/multiboot kernel command line (4 KiB).</summary>
    public const ulong Cmdline = 0x7000, CmdlineMax = 0x1000;
    /// <summary>Multiboot module string (4 KiB).</summary>
    public const ulong ModuleString = 0x8000;
    /// <summary>Linux: initial RSP (the stack grows down from boot_params; the 64-bit protocol leaves RSP undefined).</summary>
    public const ulong LinuxStackTop = 0x10000;
    /// <summary>Linux boot_params (the zero page), where QEMU puts the real-mode part.</summary>
    public const ulong BootParams = 0x10000;
    /// <summary>Linux command line (64 KiB area), as QEMU places it.</summary>
    public const ulong LinuxCmdline = 0x20000, LinuxCmdlineMax = 0x10000;
    /// <summary>Linux identity page tables: PML4, one PDPT, four page directories (2 MiB pages below 4 GiB).</summary>
    public const ulong Pml4 = 0x30000, Pdpt = 0x31000, PageDirectories = 0x32000;
    /// <summary>End of everything above (exclusive); below the EBDA at 0x9FC00.</summary>
    public const ulong End = 0x36000;

    /// <summary>
    /// How far below the end of low RAM the initrd's placement starts, as QEMU 7.2 q35 places it (it keeps the top of
    /// low RAM for the ACPI tables its firmware writes there): the initrd goes at (end - headroom - size) rounded
    /// down to a page. PVH, multiboot and firmware boots: QEMU's acpi_data_size 0x28000 plus its "- 1"
    /// (measured: -m 512M, a 300001-byte module at 0x1ff8e000, a 1 MiB one at 0x1fed7000).
    /// </summary>
    public const ulong InitrdHeadroom = 0x28000 + 1;
    /// <summary>
    /// The same for a bzImage, measured with Debian's 6.1 kernel on q35 -m 1G: a 1031534-byte initrd at 0x3fed4000,
    /// a 1 MiB one at 0x3fed0000 (QEMU's bzImage path keeps 0x30000 free).
    /// </summary>
    public const ulong LinuxInitrdHeadroom = 0x30000;
}
