using System.Text;
using KhoEmu.Core.State;
using KhoEmu.Machine.Snapshots;
using NUnit.Framework;

namespace KhoEmu.Machine.Tests.Snapshots;

/// <summary>Whole-machine snapshots of the demo guest: stop points, restore into a fresh machine, refusals.</summary>
public sealed class MachineSnapshotTests
{
    private static MachineConfig Config(Stream serial, int cpus = 1) => new()
    {
        MemorySize = 64UL << 20,
        SerialOutput = serial,
        Smp = KhoEmu.Cpu.Smp.CpuTopology.Cores1Socket(cpus),
    };

    private sealed record Outcome(string Serial, MachineExit Exit, ulong Instructions, ulong RamHash);

    private static Outcome Finish(PcMachine m, MemoryStream serial, ulong budget = 50_000_000)
    {
        var exit = m.Run(budget - Math.Min(budget, m.InstructionCount));
        return new(Encoding.ASCII.GetString(serial.ToArray()), exit, m.InstructionCount, m.RamHash());
    }

    private static Outcome Uninterrupted(int cpus = 1)
    {
        var serial = new MemoryStream();
        using var m = new PcMachine(Config(serial, cpus));
        return Finish(m, serial);
    }

    [Test]
    public void StoppingAtEveryFewInstructionsChangesNothing()
    {
        var whole = Uninterrupted();
        Assert.That(whole.Exit.Kind, Is.EqualTo(ExitKind.DebugExit));
        var serial = new MemoryStream();
        using var m = new PcMachine(Config(serial));
        // Odd step lengths split blocks everywhere.
        for (ulong step = 1; m.Run(step).Kind == ExitKind.InstructionLimit; step = step * 7 % 113 + 1) { }
        var pieces = new Outcome(Encoding.ASCII.GetString(serial.ToArray()), new MachineExit(ExitKind.DebugExit, 0, null), m.InstructionCount, m.RamHash());
        Assert.That(pieces.Serial, Is.EqualTo(whole.Serial));
        Assert.That(pieces.Instructions, Is.EqualTo(whole.Instructions));
        Assert.That(pieces.RamHash, Is.EqualTo(whole.RamHash));
    }

    [TestCase(1, 1UL)]
    [TestCase(1, 1_001UL)]
    [TestCase(1, 2_999UL)]
    [TestCase(2, 1_501UL)]
    public void RestoredMachineContinuesBitForBit(int cpus, ulong at)
    {
        var whole = Uninterrupted(cpus);
        Assume.That(whole.Instructions, Is.GreaterThan(at));
        var serial = new MemoryStream();
        SnapshotFile snap;
        using (var m = new PcMachine(Config(serial, cpus)))
        {
            Assert.That(m.Run(at).Kind, Is.EqualTo(ExitKind.InstructionLimit));
            Assert.That(m.InstructionCount, Is.EqualTo(at));
            string path = Path.GetTempFileName();
            m.TakeSnapshot($"instruction {at}").Write(path);
            snap = SnapshotFile.Read(path);
            File.Delete(path);
        }
        var serial2 = new MemoryStream();
        serial2.Write(serial.ToArray());
        using var fresh = new PcMachine(Config(serial2, cpus));
        fresh.Restore(snap);
        Assert.That(fresh.InstructionCount, Is.EqualTo(at));
        var resumed = Finish(fresh, serial2);
        Assert.That(resumed.Serial, Is.EqualTo(whole.Serial));
        Assert.That(resumed.Exit, Is.EqualTo(whole.Exit));
        Assert.That(resumed.Instructions, Is.EqualTo(whole.Instructions));
        Assert.That(resumed.RamHash, Is.EqualTo(whole.RamHash));
    }

    private static SnapshotFile SnapshotAt(ulong at)
    {
        using var m = new PcMachine(Config(new MemoryStream()));
        m.Run(at);
        return m.TakeSnapshot("test");
    }

    private static SnapshotFile With(SnapshotFile s, Func<SnapshotSection, SnapshotSection?> change, SnapshotSection? extra = null) =>
        new(s.Header, s.Sections.Select(change).Where(x => x is not null).Select(x => x!).Concat(extra is null ? [] : [extra]));

    private static void AssertRefusedUntouched(SnapshotFile bad, string reason)
    {
        using var target = new PcMachine(Config(new MemoryStream()));
        ulong ram = target.RamHash();
        var before = target.StateSections.Select(s => s.Save()).ToList();
        var e = Assert.Throws<SnapshotFormatException>(() => target.Restore(bad))!;
        Assert.That(e.Message, Does.Contain(reason));
        Assert.That(target.RamHash(), Is.EqualTo(ram));
        Assert.That(target.StateSections.Select(s => s.Save()), Is.EqualTo(before));
        Assert.That(target.InstructionCount, Is.Zero);
    }

    [Test]
    public void SectionThatFailsDecodeIsRefusedAndNothingApplied()
    {
        var s = SnapshotAt(2_000);
        AssertRefusedUntouched(With(s, x => x.Name == "machine" ? x with { Data = [1, 2, 3] } : x), "section machine");
        var last = s.StateSections().Last();
        AssertRefusedUntouched(With(s, x => x.Name == last ? x with { Data = x.Data[..(x.Data.Length / 2)] } : x), $"section {last}");
    }

    [Test]
    public void SectionListMustMatchTheMachine()
    {
        var s = SnapshotAt(2_000);
        AssertRefusedUntouched(With(s, x => x.Name == "kho-oracle" ? null : x), "has no section kho-oracle");
        AssertRefusedUntouched(With(s, x => x, new SnapshotSection("gpu", 1, [0])), "section gpu is unknown");
        AssertRefusedUntouched(With(s, x => x.Name == "machine" ? x with { Version = 9 } : x), "section machine: version 9");
        AssertRefusedUntouched(With(s, x => x.Name == "ram.0" ? x with { Data = x.Data[..^1] } : x), "ram.0");
        AssertRefusedUntouched(With(s, x => x.Name == "config" ? null : x), "no config section");
    }

    [Test]
    public void OtherMachineIsRefused()
    {
        var s = SnapshotAt(2_000);
        using var bigger = new PcMachine(new MachineConfig { MemorySize = 128UL << 20 });
        Assert.That(Assert.Throws<SnapshotFormatException>(() => bigger.Restore(s))!.Message, Does.Contain("64 MiB of RAM, the machine has 128 MiB"));
        using var other = new PcMachine(new MachineConfig { MemorySize = 64UL << 20, CommandLine = "x" });
        Assert.That(Assert.Throws<SnapshotFormatException>(() => other.Restore(s))!.Message, Does.Contain("other images or options"));
        var two = SnapshotConfig.Difference(SnapshotConfig.Load(s.Find("config")!), new MachineConfig { MemorySize = 64UL << 20, CommandLine = "x" });
        Assert.That(two, Does.StartWith("-append"));
    }

    [Test]
    public void ConfigSectionRebuildsTheMachine()
    {
        var c = new MachineConfig { MemorySize = 96UL << 20, CommandLine = "a b", Kernel = [1, 2, 3], RngSeed = 9, NoReboot = true };
        c.FwCfgFiles.Add(("opt/x", [4, 5]));
        var back = SnapshotConfig.Load(SnapshotConfig.Save(c));
        Assert.That(SnapshotConfig.Difference(c, back), Is.Null);
        Assert.That(SnapshotConfig.Hash(back), Is.EqualTo(SnapshotConfig.Hash(c)));
        Assert.That(SnapshotConfig.Difference(c, new MachineConfig { MemorySize = 96UL << 20, CommandLine = "a b", Kernel = [1, 2, 4] }), Does.StartWith("-kernel"));
    }

    [Test]
    public void UntouchedRamIsNotSaved()
    {
        using var m = new PcMachine(new MachineConfig { MemorySize = 4UL << 30 });
        m.Run(2_000);
        var snap = m.TakeSnapshot("t");
        long ram = snap.Sections.Where(x => x.Name.StartsWith("ram.")).Sum(x => (long)x.Data.Length);
        Assert.That(ram, Is.LessThan(8L << 20));
        Assert.That(ram, Is.GreaterThan(0));
    }
}

internal static class SnapshotTestExtensions
{
    /// <summary>The component sections of a snapshot (neither config nor RAM).</summary>
    public static IEnumerable<string> StateSections(this SnapshotFile s) =>
        s.Sections.Select(x => x.Name).Where(n => n != SnapshotConfig.SectionName && !n.StartsWith(RamSnapshot.Prefix));
}
