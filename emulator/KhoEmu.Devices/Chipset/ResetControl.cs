using KhoEmu.Core;

namespace KhoEmu.Devices.Chipset;

/// <summary>
/// The reset control register at port 0xCF9 (Intel ICH9 data sheet 13.7.5 RST_CNT; QEMU hw/isa/lpc_ich9.c): a write
/// with RST_CPU (bit 2) set resets the machine; otherwise SYS_RST (bit 1) and FULL_RST (bit 3) are kept and read back.
/// The FADT's reset register (port 0xCF9, value 0x06) goes through here.
/// </summary>
public sealed partial class ResetControl(Action reset) : IPortDevice
{
    public const byte SysRst = 0x02, RstCpu = 0x04, FullRst = 0x08;

    private byte _value;

    public uint ReadPort(ushort offset, int size) => _value;

    public void WritePort(ushort offset, int size, uint value)
    {
        if ((value & RstCpu) != 0)
        {
            reset();
            return;
        }
        _value = (byte)(value & (SysRst | FullRst));
    }
}
