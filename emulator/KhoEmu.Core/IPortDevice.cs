namespace KhoEmu.Core;

/// <summary>A device on the x86 I/O port bus. It sees offsets from the base the bus placed it at.</summary>
public interface IPortDevice
{
    /// <summary>Reads <paramref name="size"/> bytes (1, 2 or 4) at <paramref name="offset"/>.</summary>
    uint ReadPort(ushort offset, int size);

    /// <summary>Writes the low <paramref name="size"/> bytes of <paramref name="value"/> at <paramref name="offset"/>.</summary>
    void WritePort(ushort offset, int size, uint value);
}
