using KhoEmu.Core;
using KhoEmu.Core.State;
using MemoryPack;
using NUnit.Framework;

namespace KhoEmu.Machine.Tests.DeviceState;

/// <summary>Named timers, their deadlines and sequence numbers across a save and a load.</summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class ClockStateTests
{
    /// <summary>A clock with timers "a", "b", "c" (created in the order given) that log their names when they fire.</summary>
    private static (VirtualClock Clock, Dictionary<string, ClockTimer> Timers, List<string> Fired) NewClock(params string[] order)
    {
        var clock = new VirtualClock();
        var fired = new List<string>();
        var timers = order.ToDictionary(n => n, n => clock.CreateTimer(n, () => fired.Add($"{n}@{clock.Now}")));
        return (clock, timers, fired);
    }

    [Test]
    public void TimersDueTogetherFireInTheSavedOrderAfterARestore()
    {
        var (a, ta, firedA) = NewClock("a", "b", "c");
        a.AdvanceTo(100);
        ta["c"].Arm(1000);
        ta["a"].Arm(1000);
        ta["b"].Arm(500);
        ta["b"].Arm(1000);                            // re-armed last: it fires last among the three
        var bytes = MemoryPackSerializer.Serialize(a.SaveState());

        var (b, _, firedB) = NewClock("b", "c", "a"); // created in another order, as another owner order would
        var state = MemoryPackSerializer.Deserialize<ClockState>(bytes)!;
        b.ValidateState(state);
        b.LoadState(state);
        Assert.That(MemoryPackSerializer.Serialize(b.SaveState()), Is.EqualTo(bytes));
        Assert.That(b.Now, Is.EqualTo(100UL));
        Assert.That(b.NextDeadline, Is.EqualTo(1000UL));
        a.AdvanceTo(2000);
        b.AdvanceTo(2000);
        Assert.That(firedA, Is.EqualTo(new[] { "c@1000", "a@1000", "b@1000" }));
        Assert.That(firedB, Is.EqualTo(firedA));
    }

    [Test]
    public void ARestoredTimerContinuesTheSequenceSoLaterArmsFireAfterIt()
    {
        var (a, ta, firedA) = NewClock("x", "y");
        ta["x"].Arm(700);
        var (b, tb, firedB) = NewClock("x", "y");
        tb["y"].Arm(10);                              // the fresh clock's own history is replaced by the load
        b.LoadState(a.SaveState());
        Assert.That(tb["y"].IsArmed, Is.False);
        Assert.That(tb["x"].Deadline, Is.EqualTo(700UL));
        ta["y"].Arm(700);
        tb["y"].Arm(700);
        a.AdvanceTo(700);
        b.AdvanceTo(700);
        Assert.That(firedB, Is.EqualTo(new[] { "x@700", "y@700" }));
        Assert.That(firedB, Is.EqualTo(firedA));
    }

    [Test]
    public void ACancelledOrFiredTimerIsNotSaved()
    {
        var (clock, t, fired) = NewClock("p", "q");
        t["p"].Arm(5);
        t["q"].Arm(50);
        t["q"].Cancel();
        clock.AdvanceTo(10);
        Assert.That(fired, Is.EqualTo(new[] { "p@5" }));
        Assert.That(clock.SaveState().Timers, Is.Empty);
        Assert.That(clock.NextDeadline, Is.EqualTo(ulong.MaxValue));
    }

    [Test]
    public void ADuplicateTimerNameIsAProgrammingError()
    {
        var clock = new VirtualClock();
        clock.CreateTimer("pit.ch0", () => { });
        Assert.Throws<InvalidOperationException>(() => clock.CreateTimer("pit.ch0", () => { }));
    }

    [Test]
    public void RefusesATimerThisClockDoesNotHave()
    {
        var (a, ta, _) = NewClock("mine");
        ta["mine"].Arm(5);
        var (b, _, _) = NewClock("other");
        Assert.Throws<SnapshotFormatException>(() => b.ValidateState(a.SaveState()));
    }

    [Test]
    public void RefusesATimerArmedTwice() =>
        Assert.Throws<SnapshotFormatException>(() => NewClock("t").Clock.ValidateState(new ClockState(0, 9, [new("t", 5, 1), new("t", 6, 2)])));

    [Test]
    public void RefusesASequenceNumberNotBelowTheCounter() =>
        Assert.Throws<SnapshotFormatException>(() => NewClock("t").Clock.ValidateState(new ClockState(0, 3, [new("t", 5, 3)])));
}
