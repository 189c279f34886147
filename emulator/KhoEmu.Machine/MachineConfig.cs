namespace KhoEmu.Machine;

/// <summary>Everything needed to build and boot one virtual PC.</summary>
public sealed class MachineConfig
{
    public ulong MemorySize { get; set; } = 512UL << 20;
    /// <summary>
    /// Firmware ROM (mapped to end at 4 GiB; the CPU starts at its reset vector). With a firmware, <see cref="Kernel"/>
    /// is handed to it as fw_cfg file <c>opt/khoemu/kernel</c> instead of being loaded directly.
    /// </summary>
    public byte[]? Firmware { get; set; }
    /// <summary>Kernel image: loaded directly (PVH ELF or multiboot) without a firmware, through fw_cfg with one.
    /// Neither firmware nor kernel boots the built-in demo guest.</summary>
    public byte[]? Kernel { get; set; }
    public string CommandLine { get; set; } = "";
    /// <summary>The kernel's name as the user gave it; multiboot kernels see it at the start of their command line.</summary>
    public string KernelName { get; set; } = "kernel";
    /// <summary>Initial RAM disk (QEMU's -initrd): a PVH module or the boot protocol's ramdisk for direct boot,
    /// fw_cfg's initrd items for a firmware.</summary>
    public byte[]? Initrd { get; set; }
    /// <summary>The initrd's name as the user gave it; a multiboot kernel sees it as its module's string.</summary>
    public string InitrdName { get; set; } = "initrd";
    public List<(string Name, byte[] Data)> FwCfgFiles { get; } = [];
    /// <summary>The processor model (QEMU's <c>-cpu</c>); null is <see cref="KhoEmu.Cpu.CpuModels.Default"/>.</summary>
    public KhoEmu.Cpu.CpuModel? CpuModel { get; set; }
    /// <summary>The processors (QEMU's <c>-smp</c>): sockets × cores × threads, one by default.</summary>
    public KhoEmu.Cpu.Smp.CpuTopology Smp { get; set; } = KhoEmu.Cpu.Smp.CpuTopology.Single;
    /// <summary>Seed of the CPU's RDRAND/RDSEED generator; the fixed default keeps runs reproducible.</summary>
    public ulong RngSeed { get; set; } = KhoEmu.Cpu.Cpu.DefaultRngSeed;
    /// <summary>Bytes typed into the UART (the terminal's stdin); null for none, which keeps a run deterministic.</summary>
    public Stream? SerialInput { get; set; }
    /// <summary>When set, every chunk of <see cref="SerialInput"/> the guest receives is logged here (<c>--record</c>).</summary>
    public SerialInputLog? SerialInputRecord { get; set; }
    /// <summary>When set (and <see cref="SerialInput"/> is null), serial input comes from this log (<c>--replay</c>).</summary>
    public SerialInputLog? SerialInputReplay { get; set; }
    /// <summary>Where the UART's output goes.</summary>
    public Stream SerialOutput { get; set; } = Stream.Null;
    /// <summary>The date and time the RTC shows at power-on (QEMU's <c>-rtc base=</c>); it then advances with virtual
    /// time. A fixed default keeps runs deterministic; the CLI's <c>-rtc base=utc</c> asks for the host's time.</summary>
    public DateTime RtcBase { get; set; } = DefaultRtcBase;
    public static readonly DateTime DefaultRtcBase = new(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    /// <summary>QEMU's -no-reboot: a guest reset ends the run instead of rebooting. <see cref="PcMachine.Run"/> returns
    /// <see cref="ExitKind.Reset"/> either way; the caller reboots (builds a fresh machine) when this is false.</summary>
    public bool NoReboot { get; set; }
    /// <summary>The intel-iommu properties (QEMU's <c>-device intel-iommu,intremap=on</c>); the defaults advertise
    /// queued invalidation without interrupt remapping.</summary>
    public KhoEmu.Devices.Iommu.IntelIommuOptions Iommu { get; set; } = new();
}
