namespace KhoEmu.Machine.Handover;

/// <summary>A physical range [Address, Address + Size), e.g. one KHO scratch area.</summary>
public readonly record struct KhoRange(ulong Address, ulong Size)
{
    public ulong End => Address + Size;
    public bool Contains(ulong phys) => phys >= Address && phys - Address < Size;
}
