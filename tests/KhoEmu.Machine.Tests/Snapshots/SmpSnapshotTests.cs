using KhoEmu.Machine.Snapshots;
using KhoEmu.Machine.Tests.Smp;
using NUnit.Framework;

namespace KhoEmu.Machine.Tests.Snapshots;

/// <summary>
/// Two processors racing on an unlocked counter: the final count depends on exactly where every quantum ends, so a
/// run stopped mid-quantum (and one restored from a snapshot taken there) must interleave as the run that never stopped.
/// </summary>
public sealed class SmpSnapshotTests
{
    private const int Iterations = 3_000;
    private const ulong Budget = 200_000_000;

    private static (ulong Cpu0, ulong Cpu1, ulong Time, uint Counter, MachineExit Exit) Outcome(PcMachine m, MachineExit exit) =>
        (m.Cpus[0].InstructionCount, m.Cpus[1].InstructionCount, m.Clock.Now, SmpGuest.Dword(m, SmpGuest.Results + 0xC0), exit);

    [Test]
    public void RacyCounterIsTheSameAfterStopsAndRestoresMidQuantum()
    {
        (ulong, ulong, ulong, uint, MachineExit) whole;
        using (var m = SmpTests.CounterRace(Iterations, locked: false).Build()) whole = Outcome(m, m.Run(Budget));
        Assert.That(whole.Item4, Is.LessThan(2u * Iterations), "updates were lost: the interleaving matters");

        // Stopped every 777 instructions (never on a quantum boundary) in one machine.
        using (var m = SmpTests.CounterRace(Iterations, locked: false).Build())
        {
            MachineExit exit;
            while ((exit = m.Run(777)).Kind == ExitKind.InstructionLimit && m.InstructionCount < Budget) { }
            Assert.That(Outcome(m, exit), Is.EqualTo(whole));
        }

        // Snapshot mid-quantum, restored into a fresh machine.
        SnapshotFile snap;
        using (var m = SmpTests.CounterRace(Iterations, locked: false).Build())
        {
            m.Run(25_555);
            snap = m.TakeSnapshot("test");
        }
        using var fresh = SmpTests.CounterRace(Iterations, locked: false).Build();
        fresh.Restore(snap);
        Assert.That(fresh.InstructionCount, Is.EqualTo(25_555UL));
        Assert.That(Outcome(fresh, fresh.Run(Budget - 25_555)), Is.EqualTo(whole));
    }
}
