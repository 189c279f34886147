namespace KhoEmu.Machine;

/// <summary>Everything needed to build and boot one virtual PC.</summary>
public sealed class MachineConfig
{
    public ulong MemorySize { get; set; } = 512UL << 20;
    /// <summary>Kernel image for direct boot (PVH ELF or multiboot); null boots the built-in demo guest.</summary>
    public byte[]? Kernel { get; set; }
    public string CommandLine { get; set; } = "";
    /// <summary>The kernel's name as the user gave it; multiboot kernels see it at the start of their command line.</summary>
    public string KernelName { get; set; } = "kernel";
    public List<(string Name, byte[] Data)> FwCfgFiles { get; } = [];
    /// <summary>Bytes typed into the UART (the terminal's stdin); null for none, which keeps a run deterministic.</summary>
    public Stream? SerialInput { get; set; }
    /// <summary>Where the UART's output goes.</summary>
    public Stream SerialOutput { get; set; } = Stream.Null;
}
