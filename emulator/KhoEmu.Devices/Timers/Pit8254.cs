using KhoEmu.Core;

namespace KhoEmu.Devices.Timers;

/// <summary>
/// The 8254 programmable interval timer at ports 0x40-0x43 (Intel 82C54 data sheet): three counters on a
/// 1.193182 MHz clock, each in modes 0-5 with binary or BCD counting, counter latch and the read-back command
/// (control word 11xxxxxx: bit 5 clear latches the counts, bit 4 clear latches the status, bits 3-1 select counters).
/// Counter 0's OUT drives IRQ 0 and its gate is tied high; counter 1 (DRAM refresh on old PCs) drives nothing;
/// counter 2's gate is port 0x61 bit 0 and its OUT is read back in port 0x61 bit 5 (<see cref="NmiStatusControl"/>).
/// Counters start in mode 3 with OUT high, as QEMU resets them, but do not count until the guest writes a count
/// (QEMU starts counter 0 at 18.2 Hz), so a machine whose guest never programs the PIT has no timer events.
/// </summary>
public sealed partial class Pit8254 : IPortDevice
{
    public const double InputHz = PitChannel.InputHz;

    private readonly PitChannel[] _channels;

    /// <param name="name">Names counter 0's clock timer (<c>pit.ch0</c> by default).</param>
    public Pit8254(VirtualClock clock, IIrqLine irq, string name = "pit")
    {
        _channels =
        [
            new PitChannel(clock, gate: true, irq.Set, name + ".ch0"),
            new PitChannel(clock, gate: true, output: null),
            new PitChannel(clock, gate: false, output: null),
        ];
    }

    /// <summary>Counter <paramref name="index"/> (0-2).</summary>
    public PitChannel Channel(int index) => _channels[index];

    public uint ReadPort(ushort offset, int size) => offset < 3 ? _channels[offset].Read() : 0xFFu;   // control word is write-only

    public void WritePort(ushort offset, int size, uint value)
    {
        byte v = (byte)value;
        if (offset < 3)
        {
            _channels[offset].Write(v);
            return;
        }
        if (offset != 3) return;
        int select = v >> 6;
        if (select < 3)
        {
            _channels[select].WriteControl(v);
            return;
        }
        // Read-back command (82C54 data sheet, "Read-Back Command"); bits 5 and 4 are active low.
        for (int i = 0; i < 3; i++)
        {
            if ((v & (2 << i)) == 0) continue;
            if ((v & 0x20) == 0) _channels[i].LatchCount();
            if ((v & 0x10) == 0) _channels[i].LatchStatus();
        }
    }
}
