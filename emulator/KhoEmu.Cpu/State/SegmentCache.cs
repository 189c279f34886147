namespace KhoEmu.Cpu.State;

/// <summary>
/// The hidden part of a segment register (Intel SDM vol. 3, 3.4.3): what was loaded from the descriptor.
/// Attributes keep the descriptor's bits 40..55 (type, S, DPL, P, AVL, L, D/B, G) in the layout of the access byte
/// followed by the flags nibble.
/// </summary>
public struct SegmentCache
{
    // Widest first, so the struct has no padding bytes (a snapshot stores it as raw bytes).
    public ulong Base;
    public uint Limit;
    public ushort Selector;
    public ushort Attributes;

    public readonly int Dpl => (Attributes >> 5) & 3;
    public readonly bool Present => (Attributes & 0x80) != 0;
    public readonly bool Long => (Attributes & 0x2000) != 0;
    public readonly bool Big => (Attributes & 0x4000) != 0;
    public readonly bool IsCode => (Attributes & 0x18) == 0x18;

    /// <summary>A real-mode segment: base = selector × 16, 64 KiB limit, read/write data attributes.</summary>
    public static SegmentCache RealMode(ushort selector, ushort attributes = 0x93) =>
        new() { Selector = selector, Base = (ulong)selector << 4, Limit = 0xFFFF, Attributes = attributes };

    /// <summary>Decodes an 8-byte GDT/LDT descriptor (SDM vol. 3, figure 3-8).</summary>
    public static SegmentCache FromDescriptor(ushort selector, ulong d)
    {
        uint limit = (uint)(d & 0xFFFF) | (uint)((d >> 32) & 0xF0000);
        ushort attr = (ushort)(((d >> 40) & 0xFF) | (((d >> 52) & 0xF) << 12));
        if ((attr & 0x8000) != 0) limit = (limit << 12) | 0xFFF;
        ulong b = ((d >> 16) & 0xFFFFFF) | (((d >> 56) & 0xFF) << 24);
        return new SegmentCache { Selector = selector, Base = b, Limit = limit, Attributes = attr };
    }
}
