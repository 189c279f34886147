using System.Collections.Immutable;

namespace KhoEmu.Machine.Board;

/// <summary>A range of I/O ports [<see cref="Base"/>, +<see cref="Count"/>).</summary>
public readonly record struct PortRange(ushort Base, int Count)
{
    public ushort Last => (ushort)(Base + Count - 1);
}

/// <summary>A guest-physical MMIO range [<see cref="Base"/>, +<see cref="Size"/>).</summary>
public readonly record struct MmioRange(ulong Base, ulong Size)
{
    public ulong End => Base + Size;
}

/// <summary>
/// One device of the board as the layout places it: its name (as the buses and a monitor show it), port ranges, MMIO
/// range, ISA IRQs (the I/O APIC input is <see cref="Q35Layout.IsaIrqToGsi"/>) and PCI device number. The ACPI tables,
/// the e820 map and the bus registrations all read these records.
/// </summary>
public sealed record BoardDevice(string Name)
{
    public ImmutableArray<PortRange> Ports { get; init; } = [];
    public MmioRange? Mmio { get; init; }
    public ImmutableArray<int> IsaIrqs { get; init; } = [];
    /// <summary>PCI device (slot) number on bus 0, function 0; -1 for a non-PCI device.</summary>
    public int PciSlot { get; init; } = -1;

    /// <summary>The first port range (most devices have one).</summary>
    public PortRange Port => Ports.Length > 0 ? Ports[0] : throw new InvalidOperationException($"{Name} has no ports");

    /// <summary>The I/O APIC inputs the device's ISA IRQs reach.</summary>
    public IEnumerable<int> Gsis => IsaIrqs.Select(Q35Layout.IsaIrqToGsi);
}
