namespace KhoEmu.Machine.Handover;

/// <summary>A child node of the root KHO FDT: a subsystem's preserved blob (kho-v4: preserved-data + blob-size;
/// kho-v1: fdt). Compatible is the blob's own compatible when the blob is an FDT or starts with one (LUO's luo_ser).</summary>
public sealed record KhoSubtree(string Name, ulong Phys, ulong Size, string? Compatible);
