using KhoEmu.Core;

namespace KhoEmu.Devices.Uart16550;

/// <summary>
/// A 16550A UART (National Semiconductor PC16550D data sheet): transmit goes straight to <see cref="Output"/>, received
/// bytes queue in a FIFO. Registers at offsets 0-7 of its port base (COM1 = 0x3F8). Works without initialisation, as
/// QEMU's does.
/// </summary>
public sealed partial class Uart16550 : IPortDevice
{
    private const byte LsrDataReady = 0x01, LsrThrEmpty = 0x20, LsrTransmitterEmpty = 0x40;
    private const byte IerRxAvailable = 0x01, IerThrEmpty = 0x02;

    private readonly Queue<byte> _rx = new();
    private readonly IIrqLine? _irq;
    private byte _ier, _lcr, _mcr, _scr, _dll = 1, _dlm;
    private bool _thrInterruptPending;

    public Uart16550(Stream output, IIrqLine? irq = null)
    {
        Output = output;
        _irq = irq;
    }

    public Stream Output { get; }

    /// <summary>Queues bytes as if they arrived on the serial line.</summary>
    public void Receive(ReadOnlySpan<byte> data)
    {
        foreach (byte b in data) _rx.Enqueue(b);
        UpdateIrq();
    }

    public uint ReadPort(ushort offset, int size)
    {
        bool dlab = (_lcr & 0x80) != 0;
        switch (offset)
        {
            case 0:
                if (dlab) return _dll;
                byte b = _rx.Count > 0 ? _rx.Dequeue() : (byte)0;
                UpdateIrq();
                return b;
            case 1: return dlab ? _dlm : _ier;
            case 2:
            {
                // IIR: FIFOs enabled (bits 7:6), highest-priority pending interrupt.
                byte iir = 0xC0;
                if ((_ier & IerRxAvailable) != 0 && _rx.Count > 0) iir |= 0x04;
                else if ((_ier & IerThrEmpty) != 0 && _thrInterruptPending)
                {
                    iir |= 0x02;
                    _thrInterruptPending = false; // reading IIR clears the THR-empty interrupt
                    UpdateIrq();
                }
                else iir |= 0x01;
                return iir;
            }
            case 3: return _lcr;
            case 4: return _mcr;
            case 5: return (uint)(LsrThrEmpty | LsrTransmitterEmpty | (_rx.Count > 0 ? LsrDataReady : 0));
            case 6: return 0xB0; // DCD, DSR, CTS asserted
            default: return _scr;
        }
    }

    public void WritePort(ushort offset, int size, uint value)
    {
        byte v = (byte)value;
        bool dlab = (_lcr & 0x80) != 0;
        switch (offset)
        {
            case 0:
                if (dlab) { _dll = v; return; }
                if ((_mcr & 0x10) != 0) _rx.Enqueue(v); // loopback mode
                else
                {
                    Output.WriteByte(v);
                    if (v == '\n') Output.Flush();
                }
                _thrInterruptPending = true;
                UpdateIrq();
                return;
            case 1:
                if (dlab) { _dlm = v; return; }
                _ier = (byte)(v & 0x0F);
                _thrInterruptPending = (_ier & IerThrEmpty) != 0;
                UpdateIrq();
                return;
            case 2: return; // FCR: FIFOs are always on
            case 3: _lcr = v; return;
            case 4: _mcr = (byte)(v & 0x1F); return;
            case 7: _scr = v; return;
        }
    }

    private void UpdateIrq()
    {
        bool level = ((_ier & IerRxAvailable) != 0 && _rx.Count > 0) || ((_ier & IerThrEmpty) != 0 && _thrInterruptPending);
        _irq?.Set(level);
    }
}
