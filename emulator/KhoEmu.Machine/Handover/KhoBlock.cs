namespace KhoEmu.Machine.Handover;

/// <summary>One preserved block: 2^Order pages at Phys, as the preserved-memory map lists it.</summary>
public readonly record struct KhoBlock(ulong Phys, int Order)
{
    public ulong Size => 4096UL << Order;
}
