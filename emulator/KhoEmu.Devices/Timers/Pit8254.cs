using KhoEmu.Core;

namespace KhoEmu.Devices.Timers;

/// <summary>
/// The 8254 programmable interval timer, channel 0 (Intel 82C54 data sheet): modes 0, 2 and 3, lobyte/hibyte access,
/// counter latch, 1.193182 MHz input clock, output on IRQ 0. Channels 1-2 accept programming but drive nothing.
/// </summary>
public sealed class Pit8254 : IPortDevice
{
    public const double InputHz = 1_193_182.0;

    private readonly VirtualClock _clock;
    private readonly IIrqLine _irq;
    private int _mode, _access = 3, _reload = 0x10000;
    private bool _writeHigh, _readHigh;
    private int _partial;
    private ulong _start;
    private int? _latched;
    private TimerEvent? _event;

    public Pit8254(VirtualClock clock, IIrqLine irq)
    {
        _clock = clock;
        _irq = irq;
    }

    private ulong PeriodNs => (ulong)(_reload * 1e9 / InputHz);

    private int CurrentCount()
    {
        ulong elapsedTicks = (ulong)((_clock.Now - _start) * InputHz / 1e9);
        return (int)((ulong)_reload - elapsedTicks % (ulong)_reload);
    }

    public uint ReadPort(ushort offset, int size)
    {
        if (offset != 0) return 0;
        int value = _latched ?? CurrentCount();
        byte b;
        if (_access == 1) b = (byte)value;
        else if (_access == 2) b = (byte)(value >> 8);
        else
        {
            b = _readHigh ? (byte)(value >> 8) : (byte)value;
            _readHigh = !_readHigh;
            if (_readHigh) return b;
        }
        _latched = null;
        return b;
    }

    public void WritePort(ushort offset, int size, uint value)
    {
        byte v = (byte)value;
        if (offset == 3)
        {
            if ((v >> 6) != 0) return; // only channel 0 is modelled
            int access = (v >> 4) & 3;
            if (access == 0) { _latched = CurrentCount(); _readHigh = false; return; }
            _access = access;
            _mode = (v >> 1) & 7;
            if (_mode > 5) _mode -= 4;
            _writeHigh = false;
            _readHigh = false;
            _event?.Cancel();
            return;
        }
        if (offset != 0) return;
        if (_access == 3 && !_writeHigh)
        {
            _partial = v;
            _writeHigh = true;
            return;
        }
        int count = _access switch { 1 => v, 2 => v << 8, _ => _partial | (v << 8) };
        _writeHigh = false;
        _reload = count == 0 ? 0x10000 : count;
        Start();
    }

    private void Start()
    {
        _event?.Cancel();
        _start = _clock.Now;
        _event = _clock.Schedule(_clock.Now + Math.Max(PeriodNs, 1), Fire);
    }

    private void Fire()
    {
        _irq.Set(true);
        _irq.Set(false);
        if (_mode is 2 or 3)
        {
            _start = _clock.Now;
            _event = _clock.Schedule(_clock.Now + Math.Max(PeriodNs, 1), Fire);
        }
    }
}
