namespace KhoEmu.Machine;

/// <summary>Everything needed to build and boot one virtual PC.</summary>
public sealed class MachineConfig
{
    public ulong MemorySize { get; set; } = 512UL << 20;
    /// <summary>Kernel image for direct boot (PVH ELF or multiboot); null boots the built-in demo guest.</summary>
    public byte[]? Kernel { get; set; }
    public string CommandLine { get; set; } = "";
    public List<(string Name, byte[] Data)> FwCfgFiles { get; } = [];
    /// <summary>Where the UART's output goes.</summary>
    public Stream SerialOutput { get; set; } = Stream.Null;
}
