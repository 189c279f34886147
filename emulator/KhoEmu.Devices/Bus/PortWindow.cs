using KhoEmu.Core;

namespace KhoEmu.Devices.Bus;

/// <summary>
/// Places part of a device's register block at another port range: offsets are shifted by <paramref name="delta"/>.
/// Used where a block is split by a register that belongs to someone else (PCI's 0xCF8-0xCFF around the reset control
/// register 0xCF9) or lives at two separate ports (the keyboard controller's 0x60 and 0x64).
/// </summary>
public sealed class PortWindow(IPortDevice device, ushort delta) : IPortDevice
{
    public uint ReadPort(ushort offset, int size) => device.ReadPort((ushort)(offset + delta), size);

    public void WritePort(ushort offset, int size, uint value) => device.WritePort((ushort)(offset + delta), size, value);
}
