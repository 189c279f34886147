namespace KhoEmu.Core;

/// <summary>A memory-mapped device. It sees offsets from the base the bus placed it at.</summary>
public interface IMmioDevice
{
    /// <summary>Reads <paramref name="size"/> bytes (1, 2, 4 or 8) at <paramref name="offset"/>.</summary>
    ulong ReadMmio(ulong offset, int size);

    /// <summary>Writes the low <paramref name="size"/> bytes of <paramref name="value"/> at <paramref name="offset"/>.</summary>
    void WriteMmio(ulong offset, int size, ulong value);
}
