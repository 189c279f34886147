namespace KhoEmu.Core;

/// <summary>
/// A named timer of a <see cref="VirtualClock"/> (created by <see cref="VirtualClock.CreateTimer"/>): disarmed, or
/// armed with one deadline. Arming an armed timer moves its deadline; a timer that fires is disarmed before its
/// callback runs, so the callback may arm it again (a periodic device).
/// </summary>
public sealed class ClockTimer
{
    private readonly VirtualClock _clock;

    internal ClockTimer(VirtualClock clock, string name, Action callback)
    {
        _clock = clock;
        Name = name;
        Callback = callback;
    }

    /// <summary>Unique on its clock, e.g. <c>pit.ch0</c>, <c>lapic1.timer</c>.</summary>
    public string Name { get; }
    internal Action Callback { get; }

    public bool IsArmed { get; private set; }
    /// <summary>The virtual time the timer fires at while armed.</summary>
    public ulong Deadline { get; private set; }
    /// <summary>The order among timers due at the same time (the clock's arm count when this one was armed).</summary>
    public ulong Sequence { get; private set; }

    /// <summary>Fires at absolute virtual time <paramref name="when"/> (at the next advance if that has passed).</summary>
    public void Arm(ulong when) => _clock.Arm(this, when);

    public void Cancel() => _clock.Cancel(this);

    internal void SetArmed(ulong when, ulong seq)
    {
        IsArmed = true;
        Deadline = when;
        Sequence = seq;
    }

    internal void SetDisarmed() => IsArmed = false;
}
