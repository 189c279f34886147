using KhoEmu.Harness;
using KhoEmu.Machine;
using NUnit.Framework;

namespace KhoEmu.Linux.Tests;

/// <summary>
/// The harness's judge of upstream's Linux selftests on consoles recorded from QEMU TCG (Recorded/*.qemu.log, made
/// with tests/linux/kho/run-qemu.sh; the kho-off ones with KHO_APPEND_EXTRA=kho=off), one recorded on KhoEmu, and
/// edits of them. No boot: this
/// runs in the default suite; the boots are in <see cref="LinuxKhoSelftestTests"/>.
/// </summary>
[TestFixture, Category("Linux")]
public sealed class LinuxScenarioJudgeTests
{
    private static readonly MachineExit GuestReset = new(ExitKind.Reset, 0, null);

    private static string Recorded(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Recorded", name));

    private static LinuxScenario Scenario(string test) => LinuxScenarios.Find(LinuxScenarios.Prefix + test)!;

    private static IEnumerable<string> Failing(string test, string console, MachineExit? exit = null)
    {
        var (checks, problems) = LinuxScenarios.Judge(Scenario(test), console, exit ?? GuestReset);
        return checks.Where(c => !c.Ok).Select(c => c.Name).Concat(problems);
    }

    [Test]
    public void ScenarioListHasTheSixUpstreamTests()
    {
        Assert.That(LinuxScenarios.All.Select(s => s.Name), Is.EqualTo(new[] { "linux-kho", "linux-luo_kexec_simple", "linux-luo_multi_session",
            "linux-luo_stress_files", "linux-luo_stress_sessions", "linux-liveupdate" }));
        Assert.That(LinuxScenarios.All.Select(s => s.Name).Intersect(Scenarios.All.Select(s => s.Name)), Is.Empty, "names do not clash");
        Assert.That(LinuxScenarios.CommandLine(Scenario("kho"), "kho=off"), Is.EqualTo("console=ttyS0 kho=on panic=-1 kho=off"));
    }

    [TestCase("kho", "kho.qemu.log", 5)]
    [TestCase("luo_kexec_simple", "luo_kexec_simple.qemu.log", 6)]
    [TestCase("liveupdate", "liveupdate.qemu.log", 17)]
    // Recorded on KhoEmu: the stage-2 kernel's "Run /init as init process" reached the UART after /init's own
    // "TEST PASSED" (printk and /dev/console writes interleave); the judge must not depend on that order.
    [TestCase("luo_kexec_simple", "luo_kexec_simple.khoemu.log", 6)]
    public void RecordedPassingRunsPass(string test, string log, int checks)
    {
        var (c, problems) = LinuxScenarios.Judge(Scenario(test), Recorded(log), GuestReset);
        Assert.That(c.Where(x => !x.Ok).Select(x => $"{x.Name}: {x.Reason}"), Is.Empty);
        Assert.That(problems, Is.Empty);
        Assert.That(c, Has.Count.EqualTo(checks));
    }

    [Test]
    public void KhoOffFailsWhereTheNextKernelLooksForTheHandover() =>
        Assert.That(Failing("kho", Recorded("kho.kho-off.qemu.log")),
            Is.EqualTo(new[] { "next kernel finds the KHO handover", "upstream marker \"KHO restore succeeded\"" }));

    [Test]
    public void KhoOffStopsTheLuoTestBeforeItsKexec() =>
        Assert.That(Failing("luo_kexec_simple", Recorded("luo_kexec_simple.kho-off.qemu.log")),
            Is.EqualTo(new[] { "kexec into the next kernel", "next kernel finds the KHO handover", "next kernel runs /init (stage 2)",
                "upstream marker \"TEST PASSED\"" }));

    [Test]
    public void APassMarkerBeforeTheKexecDoesNotCount()
    {
        // The marker printed by the first kernel (say, stage 1 echoing it) and nothing after the kexec.
        string console = Recorded("luo_kexec_simple.qemu.log");
        int kexec = console.IndexOf(LinuxScenarios.KexecMarker, StringComparison.Ordinal);
        string firstKernelOnly = console[..kexec].Replace("INIT: Starting Stage 1", "INIT: Starting Stage 1\nTEST PASSED");
        Assert.That(Failing("luo_kexec_simple", firstKernelOnly), Does.Contain("kexec into the next kernel"));
    }

    [Test]
    public void AFailedKselftestCaseFailsItsCheckAndTheMarker()
    {
        string console = Recorded("liveupdate.qemu.log")
            .Replace("ok 5 liveupdate_device.preserve_memfd", "not ok 5 liveupdate_device.preserve_memfd")
            .Replace("# Totals: pass:15 fail:0", "# Totals: pass:14 fail:1");
        Assert.That(Failing("liveupdate", console),
            Is.EqualTo(new[] { "liveupdate_device.preserve_memfd", "upstream marker \"# Totals: pass:15 fail:0\"" }));
    }

    [Test]
    public void ATruncatedKselftestReportIsAProblem()
    {
        string console = Recorded("liveupdate.qemu.log");
        console = console[..console.IndexOf("ok 11 ", StringComparison.Ordinal)];
        Assert.That(Failing("liveupdate", console), Is.EqualTo(new[] { "upstream marker \"# Totals: pass:15 fail:0\"", "planned 15 tests, reported 10" }));
    }

    [Test]
    public void AMachineThatDidNotEndByItselfFails()
    {
        var stop = new MachineExit(ExitKind.TripleFault, MachineExit.CodeTripleFault, "triple fault at RIP 0x1000");
        Assert.That(Failing("kho", Recorded("kho.qemu.log"), stop), Is.EqualTo(new[] { "the guest ends the run (reset or power-off)" }));
    }
}
