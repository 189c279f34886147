using KhoEmu.Core;

namespace KhoEmu.Devices.Acpi;

/// <summary>
/// The APM control and status ports 0xB2/0xB3 as QEMU's hw/isa/apm.c: 0xB2 (APMC, the FADT's SMI_CMD) holds the
/// last command and hands it to the chipset (ICH9: ACPI_ENABLE / ACPI_DISABLE), 0xB3 (APMS) is a scratch byte.
/// No SMM handler exists, so a command raises no SMI.
/// </summary>
public sealed partial class ApmControl(Action<byte> command) : IPortDevice
{

    private byte _control, _status;

    public uint ReadPort(ushort offset, int size) => offset == 0 ? _control : _status;

    public void WritePort(ushort offset, int size, uint value)
    {
        if (offset == 0)
        {
            _control = (byte)value;
            command(_control);
        }
        else _status = (byte)value;
    }
}
