using KhoEmu.Core.State;

namespace KhoEmu.Core;

/// <summary>
/// Emulated time. It advances only with executed instructions (and across HLT to the next event), so a run with the
/// same inputs is deterministic. One instruction is one nanosecond of virtual time (a 1 GHz guest).
/// Events are named timers (<see cref="CreateTimer"/>): each has an owner that created it and at most one deadline,
/// so the clock's whole state (<see cref="ClockState"/>) is a value a snapshot can hold and re-arm.
/// </summary>
public sealed class VirtualClock : IStateful<ClockState>
{
    private readonly PriorityQueue<ClockTimer, (ulong When, ulong Seq)> _queue = new();
    private readonly Dictionary<string, ClockTimer> _timers = new(StringComparer.Ordinal);
    private ulong _seq;
    private bool _advancing;

    /// <summary>Virtual nanoseconds since reset.</summary>
    public ulong Now { get; private set; }

    /// <summary>The earliest pending deadline, or <see cref="ulong.MaxValue"/> when none is armed.</summary>
    public ulong NextDeadline => _queue.TryPeek(out _, out var p) ? p.When : ulong.MaxValue;

    /// <summary>Every timer created on this clock, by name.</summary>
    public IReadOnlyDictionary<string, ClockTimer> Timers => _timers;

    /// <summary>
    /// A timer named <paramref name="name"/> (unique on this clock: a snapshot finds it again by that name) that runs
    /// <paramref name="callback"/> when its deadline comes. It starts disarmed.
    /// </summary>
    /// <exception cref="InvalidOperationException">A timer of that name exists: two owners would share one deadline.</exception>
    public ClockTimer CreateTimer(string name, Action callback)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (_timers.ContainsKey(name)) throw new InvalidOperationException($"a timer named '{name}' exists on this clock");
        var timer = new ClockTimer(this, name, callback);
        _timers.Add(name, timer);
        return timer;
    }

    /// <summary>Puts <paramref name="timer"/> in the queue (out of it first if armed); events due at the same time run
    /// in the order of their sequence numbers, i.e. in the order they were armed.</summary>
    internal void Arm(ClockTimer timer, ulong when, ulong seq)
    {
        if (timer.IsArmed) _queue.Remove(timer, out _, out _);
        timer.SetArmed(when, seq);
        _queue.Enqueue(timer, (when, seq));
    }

    internal void Arm(ClockTimer timer, ulong when) => Arm(timer, when, _seq++);

    internal void Cancel(ClockTimer timer)
    {
        if (!timer.IsArmed) return;
        _queue.Remove(timer, out _, out _);
        timer.SetDisarmed();
    }

    /// <summary>Moves time forward to <paramref name="now"/> and runs every event that became due, in order.</summary>
    public void AdvanceTo(ulong now)
    {
        // An event's own device access (a DMA write to MMIO) must not run later events inside it: it sees its time.
        if (_advancing) return;
        _advancing = true;
        try
        {
            // Each event runs at its own time, so a periodic device that re-arms itself fires once per period.
            while (_queue.TryPeek(out var timer, out var p) && p.When <= now)
            {
                _queue.Dequeue();
                timer.SetDisarmed();
                if (p.When > Now) Now = p.When;
                timer.Callback();
            }
            if (now > Now) Now = now;
        }
        finally { _advancing = false; }
    }

    public ClockState SaveState()
    {
        var armed = _timers.Values.Where(t => t.IsArmed).OrderBy(t => t.Sequence)
            .Select(t => new ArmedTimer(t.Name, t.Deadline, t.Sequence)).ToArray();
        return new ClockState(Now, _seq, armed);
    }

    public void ValidateState(ClockState state)
    {
        if (state.Timers is null) throw new SnapshotFormatException("clock: no timer list");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var seqs = new HashSet<ulong>();
        foreach (var t in state.Timers)
        {
            if (t.Name is null || !_timers.ContainsKey(t.Name))
                throw new SnapshotFormatException($"clock: timer '{t.Name}' does not exist on this machine");
            if (!seen.Add(t.Name)) throw new SnapshotFormatException($"clock: timer '{t.Name}' armed twice");
            if (t.Sequence >= state.Sequence || !seqs.Add(t.Sequence))
                throw new SnapshotFormatException($"clock: timer '{t.Name}' has sequence {t.Sequence}, not below {state.Sequence} or not unique");
        }
    }

    /// <summary>Loads the time and re-arms exactly the saved timers, each with its saved sequence number, so events due
    /// at the same time fire in the same order as in the run that was saved. Owners do not re-arm their timers.</summary>
    public void LoadState(ClockState state)
    {
        foreach (var t in _timers.Values) Cancel(t);
        Now = state.Now;
        _seq = state.Sequence;
        foreach (var t in state.Timers) Arm(_timers[t.Name], t.Deadline, t.Sequence);
    }
}
