using System.Text;
using System.Text.RegularExpressions;
using KhoEmu.Harness;
using KhoEmu.Machine;
using KhoEmu.Machine.Snapshots;
using NUnit.Framework;

namespace KhoEmu.Guest.Tests;

/// <summary>
/// Every project scenario stopped, saved, restored (in this process, and in a fresh `khoemu` process) and continued:
/// serial output, exit, instruction count and guest RAM equal the run that never stopped (docs/snapshots.md).
/// </summary>
[TestFixture, NonParallelizable]
public sealed class ScenarioSnapshotTests
{
    private string _dir = "";

    [OneTimeSetUp]
    public void SetUp() => Directory.CreateDirectory(_dir = Path.Combine(Path.GetTempPath(), $"khoemu-scenario-snap-{Guid.NewGuid():N}"));

    [OneTimeTearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private sealed record Outcome(string Serial, MachineExit Exit, ulong Instructions, ulong RamHash);

    private static Outcome Uninterrupted(Scenario s, int cpus = 1)
    {
        var serial = new MemoryStream();
        var config = Scenarios.Config(s, serial);
        config.Smp = KhoEmu.Cpu.Smp.CpuTopology.Cores1Socket(cpus);
        using var m = new PcMachine(config);
        var exit = m.Run(s.InstructionBudget);
        return new(Encoding.ASCII.GetString(serial.ToArray()), exit, m.InstructionCount, m.RamHash());
    }

    /// <summary>Runs to <paramref name="at"/>, snapshots (file written and read back), restores into a fresh machine and
    /// finishes there.</summary>
    private Outcome ThroughSnapshot(Scenario s, ulong at, int cpus = 1)
    {
        var serial = new MemoryStream();
        var config = Scenarios.Config(s, serial);
        config.Smp = KhoEmu.Cpu.Smp.CpuTopology.Cores1Socket(cpus);
        string path = Path.Combine(_dir, $"{s.Name}-{at}-{cpus}.snap");
        using (var m = new PcMachine(config))
        {
            Assert.That(m.Run(at).Kind, Is.EqualTo(ExitKind.InstructionLimit));
            m.TakeSnapshot($"instruction {at}").Write(path);
        }
        var snapshot = SnapshotFile.Read(path);
        var rest = new MemoryStream();
        var saved = SnapshotConfig.Load(snapshot.Find(SnapshotConfig.SectionName)!);
        saved.SerialOutput = rest;
        using var fresh = new PcMachine(saved);
        fresh.Restore(snapshot);
        var exit = fresh.Run(s.InstructionBudget - at);
        return new(Encoding.ASCII.GetString(serial.ToArray()) + Encoding.ASCII.GetString(rest.ToArray()), exit, fresh.InstructionCount, fresh.RamHash());
    }

    private static void AssertSame(Outcome actual, Outcome expected, string what)
    {
        Assert.That(actual.Serial, Is.EqualTo(expected.Serial), what);
        Assert.That(actual.Exit, Is.EqualTo(expected.Exit), what);
        Assert.That(actual.Instructions, Is.EqualTo(expected.Instructions), what);
        Assert.That(actual.RamHash, Is.EqualTo(expected.RamHash).Using<ulong>((a, b) => a == b), $"{what}: guest RAM");
    }

    private static (int Code, string Stdout, string Stderr) Khoemu(params string[] args) => KhoemuProcess.Run(args);

    private static readonly string[] Names = [.. Scenarios.All.Select(s => s.Name)];

    /// <summary>The short version in the default run: a scenario without a kexec and one with.</summary>
    private static readonly string[] ShortNames = ["boot", "kexec-memfd"];

    [TestCaseSource(nameof(ShortNames))]
    public void ScenarioContinuesBitForBitFromSnapshots(string name) => ContinuesBitForBit(name);

    /// <summary>Every scenario, each run three times and more (about nine minutes in Debug): .ci/run runs it in Release.</summary>
    [TestCaseSource(nameof(Names)), Explicit("every scenario: dotnet test -c Release tests/KhoEmu.Guest.Tests --filter TestCategory=SnapshotsFull"),
     Category("SnapshotsFull")]
    public void EveryScenarioContinuesBitForBitFromSnapshots(string name) => ContinuesBitForBit(name);

    private void ContinuesBitForBit(string name)
    {
        var s = Scenarios.Find(name)!;
        var whole = Uninterrupted(s);
        Assert.That(whole.Exit.Kind, Is.EqualTo(ExitKind.DebugExit), whole.Exit.Diagnostic);

        // In this process: a third of the way in (mid-block: the count is odd), and at the kexec jump.
        AssertSame(ThroughSnapshot(s, whole.Instructions / 3 | 1), whole, "restored at a third");
        bool kexecs = name.StartsWith("kexec", StringComparison.Ordinal) || name is "handover-faults" or "luo-selftests";
        var atJump = kexecs ? ScenarioSnapshots.Take(s, at: null) : null;
        if (kexecs) Assert.That(atJump, Is.Not.Null, "the scenario kexecs");

        // In a fresh process: `khoemu run --restore` from the jump (or from two thirds in), with --stats for the count
        // and RAM hash.
        var snapshot = atJump ?? ScenarioSnapshots.Take(s, whole.Instructions / 3 * 2 + 1)!;
        string path = Path.Combine(_dir, $"{name}-cli.snap");
        snapshot.Write(path);
        var child = Khoemu("run", "--restore", path, "--no-input", "--stats", "--max-instructions", s.InstructionBudget.ToString());
        string before = Encoding.ASCII.GetString(snapshot.Find(PcMachine.ConsoleSection)!.Data);
        Assert.That(before + child.Stdout, Is.EqualTo(whole.Serial), child.Stderr);
        Assert.That(child.Code, Is.EqualTo(whole.Exit.ExitCode), child.Stderr);
        Assert.That(Regex.Match(child.Stderr, @"khoemu: (\d+) instructions").Groups[1].Value, Is.EqualTo(whole.Instructions.ToString()), child.Stderr);
        Assert.That(Regex.Match(child.Stderr, @"guest RAM xxh64 ([0-9a-f]{16})").Groups[1].Value, Is.EqualTo(whole.RamHash.ToString("x16")), child.Stderr);

        // The second stage judged from the jump by the scenario's own checks: TestCommandRunsTheSecondStageFromAKexecSnapshot.
    }

    [Test]
    public void TwoProcessorBootContinuesBitForBitMidQuantum()
    {
        var s = Scenarios.Find("boot")!;
        var whole = Uninterrupted(s, cpus: 2);
        Assert.That(whole.Exit.Kind, Is.EqualTo(ExitKind.DebugExit), whole.Exit.Diagnostic);
        AssertSame(ThroughSnapshot(s, whole.Instructions / 2 + 333, cpus: 2), whole, "-smp 2, restored mid-quantum");
    }

    [Test]
    public void CliSnapshotAtNThenRestoreInAFreshProcessEqualsTheWholeRun()
    {
        string path = Path.Combine(_dir, "boot-n.snap");
        var whole = Khoemu("run", "-append", "scenario=boot", "--no-input", "--stats");
        ulong count = ulong.Parse(Regex.Match(whole.Stderr, @"khoemu: (\d+) instructions").Groups[1].Value);
        ulong n = count / 2 + 17;
        var first = Khoemu("run", "-append", "scenario=boot", "--no-input", "--stats", "--snapshot-at", n.ToString(), "--snapshot", path);
        Assert.That(first.Stdout, Is.EqualTo(whole.Stdout), "taking the snapshot changes nothing");
        Assert.That(first.Code, Is.EqualTo(whole.Code));
        Assert.That(first.Stderr, Does.Contain($"snapshot at instruction {n} written to"));
        var info = Khoemu("snapshot", "info", path);
        Assert.That(info.Code, Is.Zero, info.Stderr);
        foreach (var part in new[] { $"instructions: {n}", "cpu0 ", "machine ", "clock ", "ram.0 ", "kho-oracle " })
            Assert.That(info.Stdout, Does.Contain(part), info.Stdout);

        var second = Khoemu("run", "--restore", path, "--no-input", "--stats");
        var snapshot = SnapshotFile.Read(path);
        string before = Encoding.ASCII.GetString(snapshot.Find(PcMachine.ConsoleSection)!.Data);
        Assert.That(before + second.Stdout, Is.EqualTo(whole.Stdout));
        Assert.That(second.Code, Is.EqualTo(whole.Code));
        string Stat(string text, string pattern) => Regex.Match(text, pattern).Groups[1].Value;
        Assert.That(Stat(second.Stderr, @"khoemu: (\d+) instructions"), Is.EqualTo(count.ToString()));
        Assert.That(Stat(second.Stderr, @"guest RAM xxh64 (\w+)"), Is.EqualTo(Stat(whole.Stderr, @"guest RAM xxh64 (\w+)")));

        // Image options that describe another machine, and a damaged file, are refused with exit 2 and one line.
        var other = Khoemu("run", "--restore", path, "--no-input", "-append", "scenario=devices");
        Assert.That(other.Code, Is.EqualTo(2));
        Assert.That(other.Stderr.Trim(), Does.Contain("-append").And.Not.Contain("\n"));
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 4;
        File.WriteAllBytes(path, bytes);
        var bad = Khoemu("run", "--restore", path, "--no-input");
        Assert.That(bad.Code, Is.EqualTo(2));
        Assert.That(bad.Stderr.Trim(), Does.EndWith("checksum mismatch: the file is corrupted").And.Not.Contain("\n"));
        Assert.That(bad.Stdout, Is.Empty, "nothing ran");
        Assert.That(Khoemu("snapshot", "info", path).Code, Is.EqualTo(2));
    }

    [Test]
    public void TestCommandRunsTheSecondStageFromAKexecSnapshot()
    {
        string path = Path.Combine(_dir, "memfd-kexec.snap");
        var take = Khoemu("run", "-append", "scenario=kexec-memfd", "--no-input", "--snapshot-at", "kexec", "--snapshot", path);
        Assert.That(take.Stderr, Does.Contain("snapshot at kexec jump 1"));
        var test = Khoemu("test", "kexec-memfd", "--from-snapshot", path);
        Assert.That(test.Code, Is.Zero, test.Stdout + test.Stderr);
        Assert.That(test.Stdout, Does.Contain("PASS kexec-memfd/").And.Contain(" 0 failed"));
        // The kernel the jump enters can be replaced by another image of the same layout: here the same kernel.
        string kernel = Path.Combine(_dir, "kernel.elf");
        File.WriteAllBytes(kernel, GuestImages.Kernel);
        var same = Khoemu("test", "kexec-memfd", "--from-snapshot", path, "--next-kernel", kernel);
        Assert.That(same.Code, Is.Zero, same.Stdout + same.Stderr);
        var wrong = Khoemu("test", "boot", "--from-snapshot", path);
        Assert.That(wrong.Code, Is.EqualTo(2));
        Assert.That(wrong.Stderr, Does.Contain("not of scenario boot"));
    }
}
