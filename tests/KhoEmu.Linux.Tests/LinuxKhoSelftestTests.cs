using KhoEmu.Harness;
using NUnit.Framework;

namespace KhoEmu.Linux.Tests;

/// <summary>
/// Upstream Linux's six KHO/LUO selftests (tests/linux/kho/prepare.sh builds the guest) through the harness on
/// KhoEmu, with the KHO oracle watching, and the same images on QEMU TCG: each passes on both with the same checks,
/// and the negative controls (kho=off) fail the same way on both. About 7 minutes of boots with one CPU (15-20 with two as well), so only when selected:
/// <c>dotnet test --filter TestCategory=LinuxKho</c> (.ci/run does).
/// </summary>
[TestFixture, Explicit("seven minutes of Linux boots: dotnet test --filter TestCategory=LinuxKho"), NonParallelizable, Category("LinuxKho")]
public sealed class LinuxKhoSelftestTests
{
    private LinuxGuest _guest = null!;

    public static IEnumerable<string> Tests => LinuxScenarios.All.Select(s => s.Test);

    /// <summary>The tests upstream's own negative control applies to: without KHO, nothing is handed over.</summary>
    public static readonly string[] KhoOffControls = ["kho", "luo_kexec_simple"];

    [OneTimeSetUp]
    public void Prepare()
    {
        // A missing guest is a failure: prepare.sh builds it (a kernel build the first time).
        try { _guest = LinuxGuest.Locate(null); }
        catch (LinuxGuestException e) { Assert.Fail(e.Message); }
        TestContext.Progress.WriteLine($"KHO Linux guest: {_guest.Directory}");
    }

    [TestCaseSource(nameof(Tests))]
    public void PassesOnKhoEmuWithNoOracleViolation(string test)
    {
        var r = RunKhoEmu(test, "");
        Assert.That(r.Checks.Where(c => !c.Ok).Select(c => $"{c.Name}: {c.Reason}"), Is.Empty, Tail(r));
        Assert.That(r.Problems, Is.Empty, Tail(r));
        Assert.That(r.Limit, Is.Null, Tail(r));
        Assert.That(r.Oracle.Violations, Is.Empty, "the KHO oracle saw violations");
        Assert.That(r.Passed, Is.True);
        if (r.Scenario.Kind == LinuxTestKind.Kselftest) Assert.That(r.Checks, Has.Count.EqualTo(15 + 2), "15 kselftest cases, the marker, the end");
    }

    [TestCaseSource(nameof(Tests))]
    public void PassesOnQemuWithTheSameChecks(string test)
    {
        var q = RunQemu(test, "");
        Assert.That(q.Checks.Where(c => !c.Ok).Select(c => $"{c.Name}: {c.Reason}"), Is.Empty, q.Tail());
        Assert.That(q.Problems, Is.Empty, q.Tail());
        Assert.That(q.Passed, Is.True);
    }

    /// <summary>kho=off after the test's own options: the KHO test finds no handover in the next kernel, the LUO test
    /// has no /dev/liveupdate and never kexecs. Both machines fail the same checks.</summary>
    [TestCaseSource(nameof(KhoOffControls))]
    public void FailsWithKhoOffOnKhoEmuAsOnQemu(string test)
    {
        var k = RunKhoEmu(test, "kho=off");
        var q = RunQemu(test, "kho=off");
        Assert.That(k.Passed, Is.False, "with kho=off the test must fail on KhoEmu\n" + Tail(k));
        Assert.That(q.Passed, Is.False, "with kho=off the test must fail on QEMU\n" + q.Tail());
        // QEMU's runs are judged from the console alone; KhoEmu's also carry the oracle's check, which must fail too
        // (no handover to read).
        Assert.That(k.Checks.Single(c => c.Name == LinuxScenarios.OracleCheck).Ok, Is.False,
            "with kho=off the oracle must see no handover\n" + Tail(k));
        Assert.That(k.Checks.Where(c => c.Name != LinuxScenarios.OracleCheck).Select(Outcome), Is.EqualTo(q.Checks.Select(Outcome)),
            "KhoEmu and QEMU fail differently\n" + Tail(k) + "\n" + q.Tail());
        Assert.That(k.Checks.Last().Ok, Is.True, "the guest still ends the run itself\n" + Tail(k));
    }

    /// <summary>The same tests with two processors, as upstream's vmtest.sh runs them (<c>-smp 2</c>): the first
    /// kernel's kexec must stop the other processor (Linux's stop_other_cpus: a REBOOT_VECTOR IPI, then NMIs for a
    /// processor that does not stop) before it jumps, and the next kernel brings both up again.</summary>
    [TestCaseSource(nameof(Tests))]
    public void PassesWithTwoCpusOnKhoEmuWithNoOracleViolation(string test)
    {
        var r = RunKhoEmu(test, "", cpus: 2);
        Assert.That(r.Checks.Where(c => !c.Ok).Select(c => $"{c.Name}: {c.Reason}"), Is.Empty, Tail(r));
        Assert.That(r.Problems, Is.Empty, Tail(r));
        Assert.That(r.Limit, Is.Null, Tail(r));
        Assert.That(r.Oracle.Violations, Is.Empty, "the KHO oracle saw violations");
        Assert.That(r.Serial, Does.Contain("smp: Brought up 1 node, 2 CPUs"), "the first kernel brings up both processors\n" + Tail(r));
        // CPUID advertises x2APIC (Denverton); without interrupt remapping in x2APIC mode Linux keeps xAPIC mode.
        Assert.That(r.Serial, Does.Contain(X2ApicDeclined), "Linux sees x2APIC and keeps xAPIC mode\n" + Tail(r));
        if (r.Scenario.Kind == LinuxTestKind.Kexec)
        {
            int kexec = r.Serial.IndexOf(LinuxScenarios.KexecMarker, StringComparison.Ordinal);
            Assert.That(r.Serial.IndexOf("smp: Brought up 1 node, 2 CPUs", kexec, StringComparison.Ordinal), Is.GreaterThan(kexec),
                "the next kernel brings up both processors again\n" + Tail(r));
        }
        Assert.That(r.Passed, Is.True);
    }

    [TestCaseSource(nameof(Tests))]
    public void PassesWithTwoCpusOnQemu(string test)
    {
        var q = RunQemu(test, "", cpus: 2);
        Assert.That(q.Checks.Where(c => !c.Ok).Select(c => $"{c.Name}: {c.Reason}"), Is.Empty, q.Tail());
        Assert.That(q.Console, Does.Contain("smp: Brought up 1 node, 2 CPUs"), q.Tail());
        Assert.That(q.Passed, Is.True);
    }

    /// <summary>Linux's enable_IR_x2apic when CPUID has x2APIC but remapping has no x2APIC mode and no hypervisor
    /// vouches for x2APIC without it (arch/x86/kernel/apic/apic.c, try_to_enable_x2apic).</summary>
    public const string X2ApicDeclined = "x2apic: IRQ remapping doesn't support X2APIC mode";

    private static string Outcome(KtapTest t) => $"{(t.Ok ? "ok" : "not ok")} {t.Name}";

    private LinuxScenarioResult RunKhoEmu(string test, string extra, int cpus = 1)
    {
        var scenario = LinuxScenarios.Find(LinuxScenarios.Prefix + test)!;
        string log = Path.Combine(TestContext.CurrentContext.WorkDirectory,
            $"{scenario.Name}{(extra.Length > 0 ? "." + extra.Replace('=', '-') : "")}{(cpus > 1 ? $".smp{cpus}" : "")}.khoemu.log");
        TestContext.Progress.WriteLine($"{scenario.Name} on KhoEmu ({extra}, {cpus} CPU(s)); console: {log}");
        LinuxScenarioResult r;
        using (var console = new FileStream(log, FileMode.Create, FileAccess.Write, FileShare.Read, 1))
            r = LinuxScenarios.Run(scenario, _guest, console, extra, cpus);
        TestContext.AddTestAttachment(log);
        TestContext.Progress.WriteLine($"{scenario.Name} on KhoEmu: {(r.Passed ? "passed" : "failed")}, {r.Instructions:N0} instructions, "
            + $"{r.Wall.TotalSeconds:F1} s wall, ended {r.Exit.Kind}; oracle: {r.Oracle.Handovers} handover(s), {r.Oracle.Violations.Count} violation(s)");
        return r;
    }

    private LinuxKhoQemu.Run RunQemu(string test, string extra, int cpus = 1)
    {
        if (!HostTool.Exists("qemu-system-x86_64")) Assert.Inconclusive("qemu-system-x86_64 is not installed (.ci/run installs it)");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var q = LinuxKhoQemu.Boot(LinuxScenarios.Find(LinuxScenarios.Prefix + test)!, _guest, extra, cpus);
        TestContext.Progress.WriteLine($"linux-{test} on QEMU ({extra}, {cpus} CPU(s)): {(q.Passed ? "passed" : "failed")}, {sw.Elapsed.TotalSeconds:F1} s wall");
        return q;
    }

    private static string Tail(LinuxScenarioResult r, int lines = 40) =>
        $"KhoEmu: {r.Exit.Kind} {r.Exit.Diagnostic} {r.Limit}; checks: "
        + string.Join("; ", r.Checks.Select(c => $"{(c.Ok ? "ok" : "not ok")} {c.Name}{(c.Reason is null ? "" : " (" + c.Reason + ")")}"))
        + $"\nlast console lines:\n" + string.Join('\n', r.Serial.Split('\n').Select(l => l.TrimEnd('\r')).TakeLast(lines));
}
