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

    public SerialInputPump(Stream input, Uart16550 uart, VirtualClock clock, Func<bool> guestIdle)
    {
        _uart = uart;
        _clock = clock;
        _guestIdle = guestIdle;
        var reader = new Thread(() => ReadLoop(input)) { IsBackground = true, Name = "khoemu-serial-input" };
        reader.Start();
        _poll = clock.CreateTimer(TimerName, Poll);
        _poll.Arm(_clock.Now + PollInterval);
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
        if (_pending.IsEmpty && !_ended && _guestIdle())
            _arrived.Wait(TimeSpan.FromMilliseconds(PollInterval / 1_000_000.0));
        _arrived.Reset();
        while (_pending.TryDequeue(out var chunk)) _uart.Receive(chunk);
        if (!_ended || !_pending.IsEmpty) _poll.Arm(_clock.Now + PollInterval);
    }
}
