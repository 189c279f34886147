using KhoEmu.Core;

namespace KhoEmu.Devices.Input;

/// <summary>
/// The 8042 keyboard controller at ports 0x60 (data) and 0x64 (status / command) with no keyboard or mouse attached
/// (IBM PC/AT Technical Reference, "Keyboard Controller"; QEMU hw/input/pckbd.c for the command set and reset values).
/// Status: OBF 0, IBF 1 (always clear: commands complete at once), SYS 2, CMD/DATA 3, not-inhibited 4, AUX OBF 5.
/// Commands: 0x20 / 0x60 read / write the command byte, 0xA7 / 0xA8 disable / enable the aux port, 0xA9 aux
/// interface test (0x00), 0xAA self-test (0x55, sets SYS), 0xAB keyboard interface test (0x00), 0xAD / 0xAE disable /
/// enable the keyboard, 0xC0 read input port, 0xD0 / 0xD1 read / write the output port (bit 0 clear resets the CPU,
/// bit 1 is A20), 0xD2 / 0xD3 write the keyboard / aux output buffer, 0xD4 write to the aux device, 0xDD / 0xDF
/// A20 off / on, 0xF0-0xFF pulse output bits (0xFE pulses bit 0: reset). Bytes sent to the absent keyboard or mouse
/// get no answer, so a driver's probe times out as on a board with nothing plugged in. IRQ 1 / IRQ 12 follow a full
/// output buffer when the command byte enables them. A20 is recorded but not applied: RAM has no A20 mask.
/// </summary>
public sealed partial class I8042Controller : IPortDevice
{
    /// <summary>The offset of the status / command register when both ports map onto this device (0x64 - 0x60).</summary>
    public const ushort CommandOffset = 4;

    // Status register bits.
    public const byte StatusObf = 0x01, StatusIbf = 0x02, StatusSys = 0x04, StatusCmd = 0x08, StatusUnlocked = 0x10,
        StatusAuxObf = 0x20, StatusTimeout = 0x40, StatusParity = 0x80;
    // Command byte bits.
    public const byte ModeKbdInt = 0x01, ModeAuxInt = 0x02, ModeSys = 0x04, ModeDisableKbd = 0x10, ModeDisableAux = 0x20,
        ModeTranslate = 0x40;
    // Output port bits.
    public const byte OutReset = 0x01, OutA20 = 0x02, OutObf = 0x10, OutAuxObf = 0x20;

    private readonly Action _reset;
    private readonly IIrqLine _kbdIrq, _auxIrq;
    private readonly Queue<(byte Value, bool Aux)> _pending = new();
    private byte _status = StatusCmd | StatusUnlocked;
    private byte _mode = ModeKbdInt | ModeAuxInt;
    private byte _outPort = OutReset | OutA20 | 0xCC;     // QEMU's KBD_OUT_ONES keep the unused bits high
    private byte _outputBuffer;
    private byte _pendingCommand;                          // a command whose data byte comes through port 0x60
    private bool _kbdLevel, _auxLevel;

    public I8042Controller(Action reset, IIrqLine keyboardIrq, IIrqLine auxIrq)
    {
        _reset = reset;
        _kbdIrq = keyboardIrq;
        _auxIrq = auxIrq;
    }

    public byte CommandByte => _mode;
    public byte OutputPort => _outPort;
    public bool A20 => (_outPort & OutA20) != 0;

    public uint ReadPort(ushort offset, int size)
    {
        if (offset == CommandOffset) return _status;
        if (offset != 0) return 0xFF;
        byte value = _outputBuffer;
        _status &= unchecked((byte)~(StatusObf | StatusAuxObf));
        Refill();
        return value;
    }

    public void WritePort(ushort offset, int size, uint value)
    {
        byte v = (byte)value;
        if (offset == CommandOffset)
        {
            _status |= StatusCmd;
            Command(v);
        }
        else if (offset == 0)
        {
            _status = (byte)(_status & ~StatusCmd);
            Data(v);
        }
    }

    private void Command(byte v)
    {
        _pendingCommand = 0;
        switch (v)
        {
            case 0x20: Queue(_mode, aux: false); break;
            case 0x60 or 0xD1 or 0xD2 or 0xD3 or 0xD4: _pendingCommand = v; break;
            case 0xA7: _mode |= ModeDisableAux; break;
            case 0xA8: _mode = (byte)(_mode & ~ModeDisableAux); break;
            case 0xA9: Queue(0x00, aux: false); break;
            case 0xAA:
                _status |= StatusSys;
                _mode |= ModeSys;
                Queue(0x55, aux: false);
                break;
            case 0xAB: Queue(0x00, aux: false); break;
            case 0xAD: _mode |= ModeDisableKbd; break;
            case 0xAE: _mode = (byte)(_mode & ~ModeDisableKbd); break;
            case 0xC0: Queue(0x80, aux: false); break;             // input port: keyboard not inhibited
            case 0xD0: Queue(OutputPortWithBuffers(), aux: false); break;
            case 0xDD: _outPort = (byte)(_outPort & ~OutA20); break;
            case 0xDF: _outPort |= OutA20; break;
            case >= 0xF0:
                if ((v & 1) == 0) _reset();                       // pulse output bit 0 low: CPU reset
                break;
            default:
                break;                                             // unknown commands are ignored, as QEMU does
        }
        UpdateIrq();
    }

    private void Data(byte v)
    {
        byte command = _pendingCommand;
        _pendingCommand = 0;
        switch (command)
        {
            case 0x60:
                _mode = v;
                _status = (byte)((_status & ~StatusSys) | (v & ModeSys));
                break;
            case 0xD1:
                _outPort = v;
                if ((v & OutReset) == 0) _reset();
                break;
            case 0xD2: Queue(v, aux: false); break;
            case 0xD3: Queue(v, aux: true); break;
            default:
                break;   // 0xD4 or a plain data byte: for the aux device or keyboard, neither of which is attached
        }
        UpdateIrq();
    }

    private byte OutputPortWithBuffers()
    {
        byte p = (byte)(_outPort & ~(OutObf | OutAuxObf));
        if ((_status & StatusObf) != 0) p |= (_status & StatusAuxObf) != 0 ? OutAuxObf : OutObf;
        return p;
    }

    private void Queue(byte value, bool aux)
    {
        _pending.Enqueue((value, aux));
        if ((_status & StatusObf) == 0) Refill();
    }

    /// <summary>Moves the next pending byte into the output buffer once it is empty.</summary>
    private void Refill()
    {
        if ((_status & StatusObf) == 0 && _pending.TryDequeue(out var next))
        {
            _outputBuffer = next.Value;
            _status |= StatusObf;
            if (next.Aux) _status |= StatusAuxObf;
        }
        UpdateIrq();
    }

    private void UpdateIrq()
    {
        bool full = (_status & StatusObf) != 0, aux = (_status & StatusAuxObf) != 0;
        SetLine(ref _kbdLevel, _kbdIrq, full && !aux && (_mode & ModeKbdInt) != 0);
        SetLine(ref _auxLevel, _auxIrq, full && aux && (_mode & ModeAuxInt) != 0);
    }

    private static void SetLine(ref bool current, IIrqLine line, bool level)
    {
        if (current == level) return;
        current = level;
        line.Set(level);
    }
}
