using KhoEmu.Core;

namespace KhoEmu.Devices.Timers;

/// <summary>
/// One counter of the 8254 (Intel 82C54 data sheet, "Mode Definitions" and "Read Operations"). The count is derived
/// from virtual time: ticks of the 1.193182 MHz input since the counter was (re)started, plus ticks counted before a
/// gate pause. Modes 0-5, binary or BCD counting, the gate input, counter latch and status latch (read-back). Only a
/// counter with an output callback (channel 0, IRQ 0) schedules clock events, at each change of OUT; the others are
/// evaluated when read, so an idle machine has no PIT events pending.
/// </summary>
public sealed partial class PitChannel
{
    /// <summary>Input clock of every counter (QEMU's PIT_FREQ).</summary>
    public const ulong InputHz = 1_193_182;

    private const int AccessLatch = 0, AccessLsb = 1, AccessMsb = 2, AccessWord = 3;

    private readonly VirtualClock _clock;
    private readonly Action<bool>? _output;
    // Power-on state as QEMU's pit_reset: mode 3, so OUT is high, but not counting until a count is written.
    private int _controlMode = 3, _mode = 3, _access = AccessWord;
    private bool _bcd;
    private int _count = 0x10000;       // the initial count N in binary; 0 written means 0x10000 (10000 in BCD)
    private bool _loaded;               // a count was written since the control word ("null count" = !_loaded)
    private bool _gate, _triggered, _out;
    private ulong _anchor;              // virtual time counting (re)started
    private ulong _ticksBefore;         // ticks counted before _anchor (a gate pause in modes 0 and 4)
    private bool _writeMsbNext, _readMsbNext;
    private byte _writeLsb;
    private int _latchedCount, _latchedBytes; // bytes of a latched count still to read (0 = not latched)
    private bool _latchMsbFirst;
    private byte? _status;
    private readonly ClockTimer? _timer;   // only a counter with an output schedules events

    /// <param name="timerName">The clock timer's name, for a counter with an <paramref name="output"/>.</param>
    internal PitChannel(VirtualClock clock, bool gate, Action<bool>? output, string? timerName = null)
    {
        _clock = clock;
        _gate = gate;
        _output = output;
        if (output is not null) _timer = clock.CreateTimer(timerName ?? throw new ArgumentNullException(nameof(timerName)), Changed);
        _out = ComputeOut(0);
        _output?.Invoke(_out);
    }

    /// <summary>The effective mode 0-5 (control-word modes 6 and 7 are modes 2 and 3).</summary>
    public int Mode => _mode;
    public bool Gate => _gate;

    /// <summary>The OUT pin now.</summary>
    public bool Out => ComputeOut(Ticks());

    /// <summary>The counting element now (what a latch would capture), as the guest would read it.</summary>
    public int CurrentCount => ToGuest(ComputeCount(Ticks()));

    private bool Counting => _loaded && (_mode is 1 or 5 ? _triggered : _gate);

    private ulong Ticks()
    {
        if (!Counting) return _ticksBefore;
        return _ticksBefore + (ulong)((UInt128)(_clock.Now - _anchor) * InputHz / 1_000_000_000UL);
    }

    /// <summary>Folds the ticks counted so far into <see cref="_ticksBefore"/> so counting can change state now.</summary>
    private void Rebase()
    {
        _ticksBefore = Ticks();
        _anchor = _clock.Now;
    }

    private bool ComputeOut(ulong d)
    {
        // Initial OUT after a control word: low in mode 0, high in all other modes (data sheet, "Mode Definitions").
        if (!_loaded) return _mode != 0;
        ulong n = (ulong)_count;
        return _mode switch
        {
            0 => d >= n,
            1 => !_triggered || d >= n,
            2 => !_gate || n < 2 || d % n != n - 1,    // low for one clock when the count reaches 1
            3 => !_gate || d % n < (n + 1) / 2,       // high for the first half (rounded up) of each period
            4 => d != n,                               // one clock low strobe at terminal count
            _ => !_triggered || d != n,
        };
    }

    private int ComputeCount(ulong d)
    {
        if (!_loaded || (_mode is 1 or 5 && !_triggered)) return _count & 0xFFFF;
        long n = _count;
        long modulus = _bcd ? 10000 : 0x10000;
        long value = _mode switch
        {
            2 => n - (long)(d % (ulong)n),
            3 => n - (long)(2 * d % (ulong)n),   // decrements by two; QEMU's model of the square wave
            _ => n - (long)(d % (ulong)modulus),
        };
        return (int)(((value % modulus) + modulus) % modulus);
    }

    private int ToGuest(int count) => _bcd ? ToBcd(count) : count;

    private static int ToBcd(int v) => (v / 1000 % 10) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10;

    private static int FromBcd(int v) => (v >> 12 & 0xF) * 1000 + (v >> 8 & 0xF) * 100 + (v >> 4 & 0xF) * 10 + (v & 0xF);

    /// <summary>A control word for this counter (bits 5-4 access, 3-1 mode, 0 BCD); access 0 is the counter latch.</summary>
    internal void WriteControl(byte v)
    {
        int access = (v >> 4) & 3;
        if (access == AccessLatch) { LatchCount(); return; }
        _access = access;
        _controlMode = (v >> 1) & 7;
        _mode = _controlMode > 5 ? _controlMode - 4 : _controlMode;
        _bcd = (v & 1) != 0;
        _loaded = false;
        _triggered = false;
        _ticksBefore = 0;
        _anchor = _clock.Now;
        _writeMsbNext = _readMsbNext = false;
        Changed();
    }

    /// <summary>Counter latch command: the count is held until read; a second latch before the read is ignored.</summary>
    internal void LatchCount()
    {
        if (_latchedBytes != 0) return;
        _latchedCount = CurrentCount;
        _latchedBytes = _access == AccessWord ? 2 : 1;
        _latchMsbFirst = _access == AccessMsb;
    }

    /// <summary>Read-back status: OUT, null count, access, mode, BCD; a second latch before the read is ignored.</summary>
    internal void LatchStatus()
    {
        if (_status is not null) return;
        _status = (byte)((Out ? 0x80 : 0) | (_loaded ? 0 : 0x40) | _access << 4 | _controlMode << 1 | (_bcd ? 1 : 0));
    }

    internal byte Read()
    {
        if (_status is byte s)
        {
            _status = null;
            return s;
        }
        if (_latchedBytes > 0)
        {
            bool msb = _latchMsbFirst || (_access == AccessWord && _latchedBytes == 1);
            _latchedBytes--;
            return (byte)(msb ? _latchedCount >> 8 : _latchedCount);
        }
        int count = CurrentCount;
        switch (_access)
        {
            case AccessLsb: return (byte)count;
            case AccessMsb: return (byte)(count >> 8);
            default:
                bool high = _readMsbNext;
                _readMsbNext = !_readMsbNext;
                return (byte)(high ? count >> 8 : count);
        }
    }

    internal void Write(byte v)
    {
        int raw;
        switch (_access)
        {
            case AccessLsb: raw = v; break;
            case AccessMsb: raw = v << 8; break;
            default:
                if (!_writeMsbNext)
                {
                    _writeLsb = v;
                    _writeMsbNext = true;
                    return;
                }
                _writeMsbNext = false;
                raw = _writeLsb | v << 8;
                break;
        }
        Load(raw);
    }

    private void Load(int raw)
    {
        int n = _bcd ? FromBcd(raw) : raw;
        if (n == 0) n = _bcd ? 10000 : 0x10000;
        _count = n;
        // Modes 2 and 3 take a new count at the end of the current period on hardware; QEMU (and this model) restart
        // the period at once, which only matters for a guest that reprograms a running rate generator.
        _loaded = true;
        _ticksBefore = 0;
        _anchor = _clock.Now;
        Changed();
    }

    /// <summary>Drives the gate input (channel 2: port 0x61 bit 0; channels 0 and 1 are tied high).</summary>
    public void SetGate(bool level)
    {
        if (level == _gate) return;
        Rebase();
        bool rising = level && !_gate;
        _gate = level;
        if (rising)
        {
            if (_mode is 1 or 5) _triggered = true;
            // Modes 1, 2, 3 and 5 (re)start from the initial count on a rising edge; modes 0 and 4 resume counting.
            if (_mode is 1 or 2 or 3 or 5) _ticksBefore = 0;
            _anchor = _clock.Now;
        }
        Changed();
    }

    /// <summary>After any state change: report a new OUT level and schedule the next change (channel 0 only).</summary>
    private void Changed()
    {
        if (_output is null) return;
        _timer!.Cancel();
        ulong d = Ticks();
        bool level = ComputeOut(d);
        if (level != _out)
        {
            _out = level;
            _output(level);
        }
        if (NextEdge(d) is not ulong edge) return;
        ulong ns = (ulong)(((UInt128)(edge - _ticksBefore) * 1_000_000_000UL + InputHz - 1) / InputHz);
        ulong when = _anchor + ns;
        _timer.Arm(Math.Max(when, _clock.Now + 1));
    }

    /// <summary>The first tick after <paramref name="d"/> at which OUT changes, or null if it never does.</summary>
    private ulong? NextEdge(ulong d)
    {
        if (!Counting) return null;
        ulong n = (ulong)_count, r = d % n, start = d - r;
        switch (_mode)
        {
            case 0:
            case 1: return d < n ? n : null;
            case 2: return n < 2 ? null : r < n - 1 ? start + n - 1 : start + n;
            case 3:
                ulong half = (n + 1) / 2;
                return n < 2 ? null : r < half ? start + half : start + n;
            default: return d < n ? n : d == n ? n + 1 : null;
        }
    }
}
