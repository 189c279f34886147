namespace KhoEmu.Core;

/// <summary>
/// Emulated time. It advances only with executed instructions (and across HLT to the next event), so a run with the
/// same inputs is deterministic. One instruction is one nanosecond of virtual time (a 1 GHz guest).
/// </summary>
public sealed class VirtualClock
{
    private readonly PriorityQueue<TimerEvent, (ulong When, ulong Seq)> _queue = new();
    private ulong _seq;
    private bool _advancing;

    /// <summary>Virtual nanoseconds since reset.</summary>
    public ulong Now { get; private set; }

    /// <summary>The earliest pending deadline, or <see cref="ulong.MaxValue"/> when none is scheduled.</summary>
    public ulong NextDeadline => _queue.TryPeek(out _, out var p) ? p.When : ulong.MaxValue;

    /// <summary>Schedules <paramref name="callback"/> at absolute virtual time <paramref name="when"/>.</summary>
    public TimerEvent Schedule(ulong when, Action callback)
    {
        var ev = new TimerEvent(callback);
        _queue.Enqueue(ev, (when, _seq++));
        return ev;
    }

    /// <summary>Moves time forward to <paramref name="now"/> and runs every event that became due, in order.</summary>
    public void AdvanceTo(ulong now)
    {
        // An event's own device access (a DMA write to MMIO) must not run later events inside it: it sees its time.
        if (_advancing) return;
        _advancing = true;
        try
        {
            // Each event runs at its own time, so a periodic device that reschedules itself fires once per period.
            while (_queue.TryPeek(out var ev, out var p) && p.When <= now)
            {
                _queue.Dequeue();
                if (p.When > Now) Now = p.When;
                if (!ev.Cancelled) ev.Callback();
            }
            if (now > Now) Now = now;
        }
        finally { _advancing = false; }
    }
}

/// <summary>A scheduled callback; <see cref="Cancel"/> makes it a no-op when it comes due.</summary>
public sealed class TimerEvent(Action callback)
{
    internal Action Callback { get; } = callback;
    public bool Cancelled { get; private set; }
    public void Cancel() => Cancelled = true;
}
