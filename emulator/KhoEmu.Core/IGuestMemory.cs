namespace KhoEmu.Core;

/// <summary>
/// What a DMA-capable device sees: a byte-addressed space. It does not know whether the addresses are
/// guest-physical or I/O-virtual behind an IOMMU; a failed access returns false and transfers nothing.
/// </summary>
public interface IGuestMemory
{
    bool Read(ulong address, Span<byte> destination);
    bool Write(ulong address, ReadOnlySpan<byte> source);
}
