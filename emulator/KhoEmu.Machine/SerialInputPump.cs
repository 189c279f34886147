using System.Collections.Concurrent;
using KhoEmu.Core;
using KhoEmu.Devices.Uart16550;

namespace KhoEmu.Machine;

/// <summary>
/// Feeds a host stream (the terminal's stdin) into the UART's receive FIFO. A background thread reads the stream;
/// the bytes enter the guest at the next poll, every <see cref="PollInterval"/> of virtual time. While the guest is
/// halted waiting for something to happen, a poll waits up to that long in wall time for input, so an idle guest
/// neither spins the host nor outruns the person typing. Input timing is the one non-deterministic input of a run;
/// without a stream (tests, scripted runs) the machine stays deterministic. At end of stream polling stops.
/// With a record log every delivered chunk is logged with the poll's virtual time; with a replay log (and no stream)
/// the same polls deliver the same chunks, so a recorded run is reproduced bit for bit (docs/snapshots.md).
/// </summary>
public sealed class SerialInputPump
{
    /// <summary>Virtual time between polls (1 ms).</summary>
    public const ulong PollInterval = 1_000_000;

    /// <summary>The poll's timer on the machine clock.</summary>
    public const string TimerName = "serial-input.poll";

    private readonly ConcurrentQueue<byte[]> _pending = new();
    private readonly ManualResetEventSlim _arrived = new();
    private readonly Uart16550 _uart;
    private readonly VirtualClock _clock;
    private readonly ClockTimer _poll;
    private readonly Func<bool> _guestIdle;
    private volatile bool _ended;

    private readonly SerialInputLog? _record, _replay;
    private int _replayed;

    /// <summary>True while the pump polls (until its input ended and everything was delivered).</summary>
    public bool Polling => _poll.IsArmed;

    public SerialInputPump(Stream? input, Uart16550 uart, VirtualClock clock, Func<bool> guestIdle, SerialInputLog? record = null,
        SerialInputLog? replay = null)
    {
        _uart = uart;
        _clock = clock;
        _guestIdle = guestIdle;
        _record = record;
        _replay = replay;
        if (replay is null)
        {
            ArgumentNullException.ThrowIfNull(input);
            var reader = new Thread(() => ReadLoop(input)) { IsBackground = true, Name = "khoemu-serial-input" };
            reader.Start();
        }
        _poll = clock.CreateTimer(TimerName, Poll);
        _poll.Arm(_clock.Now + PollInterval);
    }

    /// <summary>After a restore: a replay continues with the first chunk of the log not yet delivered by then (the
    /// chunks of polls before the pending poll's deadline were).</summary>
    public void Resynchronize()
    {
        if (_replay is null) return;
        ulong next = _poll.IsArmed ? _poll.Deadline : ulong.MaxValue;
        _replayed = 0;
        while (_replayed < _replay.Input.Count && _replay.Input[_replayed].Time < next) _replayed++;
    }

    private void ReadLoop(Stream input)
    {
        var buffer = new byte[256];
        try
        {
            int n;
            while ((n = input.Read(buffer, 0, buffer.Length)) > 0)
            {
                _pending.Enqueue(buffer[..n]);
                _arrived.Set();
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The host closed the stream: treat it as end of input.
        }
        _ended = true;
        _arrived.Set();
    }

    private void Poll()
    {
        if (_replay is not null)
        {
            var input = _replay.Input;
            while (_replayed < input.Count && input[_replayed].Time <= _clock.Now) _uart.Receive(input[_replayed++].Bytes);
            if (_replay.EndTime is not { } end || _clock.Now < end) _poll.Arm(_clock.Now + PollInterval);
            return;
        }
        if (_pending.IsEmpty && !_ended && _guestIdle())
            _arrived.Wait(TimeSpan.FromMilliseconds(PollInterval / 1_000_000.0));
        _arrived.Reset();
        while (_pending.TryDequeue(out var chunk))
        {
            _uart.Receive(chunk);
            _record?.Add(_clock.Now, chunk);
        }
        if (!_ended || !_pending.IsEmpty) _poll.Arm(_clock.Now + PollInterval);
        else _record?.End(_clock.Now);
    }
}
