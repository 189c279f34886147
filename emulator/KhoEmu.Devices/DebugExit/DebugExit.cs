using KhoEmu.Core;

namespace KhoEmu.Devices.DebugExit;

/// <summary>
/// QEMU's isa-debug-exit: a write of value v asks the machine to exit with status (v &lt;&lt; 1) | 1.
/// </summary>
public sealed class DebugExit(Action<int> exit) : IPortDevice
{
    public uint ReadPort(ushort offset, int size) => 0;

    public void WritePort(ushort offset, int size, uint value)
    {
        uint v = size switch { 1 => value & 0xFF, 2 => value & 0xFFFF, _ => value };
        exit((int)((v << 1) | 1));
    }
}
