using KhoEmu.Core;

namespace KhoEmu.Devices.Timers;

/// <summary>
/// Port 0x61, the NMI status and control register (Intel ICH9 data sheet 13.7.1 NMI_SC; PC/AT "port B"):
/// bit 0 timer counter 2 gate (R/W), bit 1 speaker data enable (R/W), bit 2 PCI SERR# NMI disable and bit 3 IOCHK NMI
/// disable (R/W, stored: no NMI source exists), bit 4 refresh cycle toggle (RO), bit 5 counter 2 OUT (RO), bits 6-7
/// IOCHK / SERR NMI status (RO, always 0 here). As QEMU's pcspk, bit 4 flips on every read: software that waits for
/// the refresh toggle (old delay loops) sees it move without a free-running 15 µs clock.
/// </summary>
public sealed partial class NmiStatusControl(PitChannel counter2) : IPortDevice
{
    private const byte Gate2 = 0x01, SpeakerData = 0x02, NmiDisables = 0x0C, RefreshToggle = 0x10, Out2 = 0x20;

    private byte _control;   // bits 0-3 as last written
    private byte _refresh;

    /// <summary>The speaker data bit (no audio output is modelled).</summary>
    public bool SpeakerEnabled => (_control & SpeakerData) != 0;

    public uint ReadPort(ushort offset, int size)
    {
        _refresh ^= RefreshToggle;
        return (uint)(_control | _refresh | (counter2.Out ? Out2 : 0));
    }

    public void WritePort(ushort offset, int size, uint value)
    {
        _control = (byte)(value & (Gate2 | SpeakerData | NmiDisables));
        counter2.SetGate((value & Gate2) != 0);
    }
}
