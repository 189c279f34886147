using KhoEmu.Core;

namespace KhoEmu.Devices.Interrupts;

/// <summary>
/// The cascaded pair of 8259A interrupt controllers (Intel 8259A data sheet): edge-triggered IRQ 0-15, ICW1-ICW4
/// initialisation, mask register, non-specific and specific EOI, IRR/ISR reads through OCW3. Master at 0x20, slave at
/// 0xA0, slave cascaded on IRQ 2.
/// </summary>
public sealed partial class Pic8259
{
    private sealed partial class Chip : IPortDevice
    {
        public byte Irr, Isr, Imr = 0xFF, VectorBase;
        public int InitStep;
        public bool ReadIsr, Icw4Needed;
        private byte _lines;

        public void SetLine(int irq, bool level)
        {
            byte bit = (byte)(1 << irq);
            if (level && (_lines & bit) == 0) Irr |= bit; // rising edge
            if (level) _lines |= bit;
            else _lines &= (byte)~bit;
        }

        public int Highest()
        {
            byte pending = (byte)(Irr & ~Imr);
            for (int i = 0; i < 8; i++)
            {
                if ((Isr & (1 << i)) != 0) return -1; // a higher-priority interrupt is in service
                if ((pending & (1 << i)) != 0) return i;
            }
            return -1;
        }

        public uint ReadPort(ushort offset, int size) => offset == 0 ? (ReadIsr ? Isr : Irr) : Imr;

        public void WritePort(ushort offset, int size, uint value)
        {
            byte v = (byte)value;
            if (offset == 0)
            {
                if ((v & 0x10) != 0)
                {
                    // ICW1: start initialisation.
                    InitStep = 1;
                    Icw4Needed = (v & 1) != 0;
                    Imr = 0;
                    Isr = Irr = 0;
                    ReadIsr = false;
                }
                else if ((v & 0x18) == 0x08)
                {
                    if ((v & 3) == 3) ReadIsr = (v & 1) != 0 && (v & 2) != 0; // OCW3 read register select
                    if ((v & 3) == 2) ReadIsr = false;
                }
                else if ((v & 0x20) != 0)
                {
                    // OCW2 EOI: specific (bit 6) or the highest in service.
                    if ((v & 0x40) != 0) Isr &= (byte)~(1 << (v & 7));
                    else
                        for (int i = 0; i < 8; i++)
                            if ((Isr & (1 << i)) != 0) { Isr &= (byte)~(1 << i); break; }
                }
                return;
            }
            switch (InitStep)
            {
                case 1: VectorBase = (byte)(v & 0xF8); InitStep = 2; break;
                case 2: InitStep = Icw4Needed ? 3 : 0; break;
                case 3: InitStep = 0; break;
                default: Imr = v; break;
            }
        }
    }

    private readonly Chip _master = new(), _slave = new();

    public void Register(PortBus ports)
    {
        ports.Register(0x20, 2, _master, "pic-master");
        ports.Register(0xA0, 2, _slave, "pic-slave");
    }

    public void SetIrq(int irq, bool level)
    {
        if (irq < 8) _master.SetLine(irq, level);
        else
        {
            _slave.SetLine(irq - 8, level);
            _master.SetLine(2, _slave.Highest() >= 0);
        }
    }

    public bool HasPending => _master.Highest() >= 0;

    /// <summary>INTA: moves the highest pending IRQ into service and returns its vector.</summary>
    public int Acknowledge()
    {
        int m = _master.Highest();
        if (m < 0) return -1;
        _master.Irr &= (byte)~(1 << m);
        _master.Isr |= (byte)(1 << m);
        if (m != 2) return _master.VectorBase + m;
        int s = _slave.Highest();
        if (s < 0) return _master.VectorBase + 7; // spurious
        _slave.Irr &= (byte)~(1 << s);
        _slave.Isr |= (byte)(1 << s);
        _master.SetLine(2, false);
        return _slave.VectorBase + s;
    }
}
