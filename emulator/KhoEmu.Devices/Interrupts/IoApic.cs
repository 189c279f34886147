using KhoEmu.Core;

namespace KhoEmu.Devices.Interrupts;

/// <summary>
/// The I/O APIC (Intel 82093AA datasheet; version 0x20 as QEMU's ioapic, 24 pins) at 0xFEC00000: IOREGSEL at 0x00,
/// IOWIN at 0x10 and the EOI register at 0x40. Registers: 0 ID, 1 version (0x170020), 2 arbitration, 0x10 + 2n / +1
/// the low / high halves of redirection entry n. Edge-triggered pins deliver on a rising edge; level-triggered pins
/// deliver while asserted, set Remote IRR, and deliver again after the local APIC's EOI broadcast (or a write to the
/// EOI register) if the line is still high. The polarity bit is stored but lines are logical (asserted = active), as
/// in QEMU. Pins start masked. An entry is sent as an interrupt message (address, data) the way QEMU's ioapic builds
/// it: address 0xFEE00000 | RTE[63:48] &lt;&lt; 4 | RTE[11] &lt;&lt; 2, data vector | delivery mode &lt;&lt; 8 | trigger
/// &lt;&lt; 15. For a compatibility-format entry that is the xAPIC message to destination RTE[63:56]; for a remappable
/// entry (VT-d 5.1.5.1: bit 48 set, interrupt index[14:0] in 63:49 and index[15] in bit 11) it is the remappable
/// request the interrupt-remapping unit translates. Which messages reach a local APIC is the receiver's business.
/// </summary>
public sealed partial class IoApic : IMmioDevice
{
    public const int Pins = 24;
    private const ulong Mask = 1UL << 16, LevelTriggered = 1UL << 15, RemoteIrr = 1UL << 14;
    // Destination (or interrupt index and format, 63:48), mask, trigger, polarity, dest mode, delivery, vector.
    private const ulong WritableBits = 0xFFFF_0000_0001_AFFFUL;

    private readonly Action<ulong, uint> _send;
    private readonly ulong[] _redirection = new ulong[Pins];
    private readonly bool[] _level = new bool[Pins];
    private uint _select, _id;

    /// <param name="send">Takes each interrupt message (address, data) the I/O APIC sends.</param>
    public IoApic(Action<ulong, uint> send)
    {
        _send = send;
        for (int i = 0; i < Pins; i++) _redirection[i] = Mask;
    }

    public long Delivered { get; private set; }

    /// <summary>Drives input <paramref name="pin"/> to <paramref name="level"/>; out-of-range pins are ignored.</summary>
    public void SetIrq(int pin, bool level)
    {
        if ((uint)pin >= Pins) return;
        bool rising = level && !_level[pin];
        _level[pin] = level;
        if ((_redirection[pin] & LevelTriggered) != 0) { if (level) Service(pin); }
        else if (rising) Service(pin);
    }

    /// <summary>End of interrupt for <paramref name="vector"/>: clears Remote IRR on the level-triggered pins using it.</summary>
    public void EndOfInterrupt(int vector)
    {
        for (int pin = 0; pin < Pins; pin++)
        {
            ulong e = _redirection[pin];
            if ((e & RemoteIrr) == 0 || (int)(e & 0xFF) != vector) continue;
            _redirection[pin] = e & ~RemoteIrr;
            if (_level[pin]) Service(pin);
        }
    }

    private void Service(int pin)
    {
        ulong e = _redirection[pin];
        if ((e & Mask) != 0) return;
        bool level = (e & LevelTriggered) != 0;
        if (level && (e & RemoteIrr) != 0) return;             // still in service
        if (level) _redirection[pin] = e | RemoteIrr;
        Delivered++;
        ulong address = InterruptMessage.AddressBase | ((e >> 48) & 0xFFFF) << 4 | ((e >> 11) & 1) << 2;
        uint data = (uint)(e & 0x7FF) | (level ? 1u << 15 : 0);
        _send(address, data);
    }

    public ulong ReadMmio(ulong offset, int size) => (offset & 0xFF) switch
    {
        0x00 => _select,
        0x10 => ReadRegister(_select),
        _ => 0,
    };

    private uint ReadRegister(uint reg) => reg switch
    {
        0 => _id,
        1 => ((uint)(Pins - 1) << 16) | 0x20,
        2 => _id,
        >= 0x10 and < 0x10 + 2 * Pins => (reg & 1) == 0 ? (uint)_redirection[(reg - 0x10) / 2] : (uint)(_redirection[(reg - 0x10) / 2] >> 32),
        _ => 0,
    };

    public void WriteMmio(ulong offset, int size, ulong value)
    {
        uint v = (uint)value;
        switch (offset & 0xFF)
        {
            case 0x00: _select = v & 0xFF; break;
            case 0x10: WriteRegister(_select, v); break;
            case 0x40: EndOfInterrupt((int)(v & 0xFF)); break;
        }
    }

    private void WriteRegister(uint reg, uint v)
    {
        if (reg == 0) { _id = v & 0x0F00_0000; return; }
        if (reg < 0x10 || reg >= 0x10 + 2 * Pins) return;
        int pin = (int)(reg - 0x10) / 2;
        ulong old = _redirection[pin];
        ulong merged = (reg & 1) == 0 ? (old & ~0xFFFF_FFFFUL) | v : (old & 0xFFFF_FFFFUL) | ((ulong)v << 32);
        _redirection[pin] = (merged & WritableBits) | (old & RemoteIrr);
        if ((_redirection[pin] & LevelTriggered) == 0) _redirection[pin] &= ~RemoteIrr;
        if (_level[pin] && (_redirection[pin] & LevelTriggered) != 0) Service(pin);   // unmasking a pending level line
    }
}

/// <summary>An ISA interrupt line as the chipset wires it: to the 8259 PIC and to the I/O APIC (IRQ0 on input 2).</summary>
public sealed class IsaIrqLine(Pic8259 pic, IoApic ioapic, int irq) : IIrqLine
{
    public void Set(bool level)
    {
        pic.SetIrq(irq, level);
        ioapic.SetIrq(irq == 0 ? 2 : irq, level);
    }
}
