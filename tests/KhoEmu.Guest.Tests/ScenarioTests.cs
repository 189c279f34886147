using KhoEmu.Harness;
using KhoEmu.Machine;
using NUnit.Framework;

namespace KhoEmu.Guest.Tests;

/// <summary>The C# firmware, kernel and init booted end to end through the harness, on KhoEmu and on QEMU.</summary>
[TestFixture, NonParallelizable]
public sealed class ScenarioTests
{
    private static readonly string[] BootTests =
    [
        "memory_map_sane", "page_allocator_round_trip", "heap_allocates_and_grows", "static_fields_initialized",
        "sse_floating_point", "timer_interrupts_arrive", "page_fault_caught_and_reported", "null_page_unmapped",
        "fdt_round_trip", "init_runs_in_ring3",
    ];

    private string _images = "";

    [OneTimeSetUp]
    public void Export() => _images = GuestImageFiles.Export();

    [OneTimeTearDown]
    public void Clean() => Directory.Delete(_images, recursive: true);

    [Test]
    public void BootScenarioPassesOnKhoEmu()
    {
        var r = Scenarios.Run(Scenarios.Find("boot")!);
        Assert.That(r.Report.Problems, Is.Empty, r.Serial);
        Assert.That(r.Report.Tests.Select(t => t.Name), Is.EqualTo(BootTests), r.Serial);
        Assert.That(r.Report.Tests.Where(t => !t.Ok).Select(t => $"{t.Name}: {t.Reason}"), Is.Empty, r.Serial);
        Assert.That(r.Serial, Does.Contain("KhoEmu firmware").And.Contain("init: hello from ring 3"));
        Assert.That(r.Passed, Is.True, r.Exit.Diagnostic);
    }

    [Test]
    public void KexecMemfdPassesOnKhoEmu()
    {
        var r = Scenarios.Run(Scenarios.Find("kexec-memfd")!);
        Assert.That(r.Report.Problems, Is.Empty, r.Serial);
        Assert.That(r.Report.Tests.Where(t => !t.Ok).Select(t => $"{t.Name}: {t.Reason}"), Is.Empty, r.Serial);
        Assert.That(r.Report.Tests, Has.Count.GreaterThanOrEqualTo(20));
        Assert.That(r.Serial, Does.Contain("kexec: jumping to the new kernel"));
        Assert.That(r.Serial, Does.Contain("liveupdate-number 1"));
        Assert.That(r.Passed, Is.True, r.Exit.Diagnostic);
    }

    [Test]
    public void DevicesScenarioPassesOnKhoEmu()
    {
        var r = Scenarios.Run(Scenarios.Find("devices")!);
        Assert.That(r.Report.Problems, Is.Empty, r.Serial);
        Assert.That(r.Report.Tests.Where(t => !t.Ok).Select(t => $"{t.Name}: {t.Reason}"), Is.Empty, r.Serial);
        Assert.That(r.Report.Skipped, Is.Zero, "KhoEmu has the DMA engine");
        Assert.That(r.Report.Tests, Has.Count.EqualTo(10));
        Assert.That(r.Oracle.DmaWritesChecked, Is.GreaterThan(100), "the DMA oracle saw the engine's and edu's writes");
        Assert.That(r.Passed, Is.True, r.Exit.Diagnostic);
    }

    [TestCase("vfio-dma", 8)]
    [TestCase("kexec-vfio-dma", 18)]
    [TestCase("luo-selftests", 35)]
    [TestCase("handover-faults", 29)]
    public void LiveUpdateScenarioPassesOnKhoEmu(string name, int checks)
    {
        var r = Scenarios.Run(Scenarios.Find(name)!);
        Assert.That(r.Report.Problems, Is.Empty, r.Serial);
        Assert.That(r.Report.Tests.Where(t => !t.Ok).Select(t => $"{t.Name}: {t.Reason}"), Is.Empty, r.Serial);
        Assert.That(r.Report.Tests, Has.Count.EqualTo(checks));
        Assert.That(r.Oracle.Violations, Is.Empty);
        if (name != "vfio-dma") Assert.That(r.Oracle.Handovers, Is.GreaterThan(0));
        if (name.Contains("vfio")) Assert.That(r.Oracle.DmaWritesChecked, Is.GreaterThan(100), "device DMA was checked");
        Assert.That(r.Passed, Is.True, r.Exit.Diagnostic);
    }

    [Test]
    public void HandoverFaultsReportBrokenItemsReadably()
    {
        var r = Scenarios.Run(Scenarios.Find("handover-faults")!);
        // Four kexecs; every round's broken items stay reserved, so the run's total is more than the last round's.
        Assert.That(r.Oracle.Handovers, Is.EqualTo(4));
        Assert.That(r.Oracle.Unrestored, Is.GreaterThan(3));
        Assert.That(r.Report.Tests.Select(t => t.Name), Is.Unique);
        Assert.That(r.Serial, Does.Contain("luo: token 11: unknown compatible"));
        Assert.That(r.Serial, Does.Contain("luo: token 20: duplicate token"));
        Assert.That(r.Serial, Does.Contain("luo: LUO FDT: luo-session node missing or not luo-session-v2"));
        Assert.That(r.Serial, Does.Contain("luo: freeze failed (-5); unfreezing"));
        Assert.That(r.Serial, Does.Not.Contain("kernel panic"));
    }

    [Test]
    public void KexecMemfdPassesOnQemu()
    {
        var q = Qemu("-m", "512", "-kernel", "kernel.elf", "-append", "scenario=kexec-memfd",
            "-fw_cfg", "name=opt/khoemu/init,file=init.elf", "-fw_cfg", "name=opt/khoemu/kernel,file=kernel.elf");
        var report = KtapReport.Parse(q.Text);
        Assert.That(report.Problems, Is.Empty, q.Text + q.Stderr);
        Assert.That(report.Failed, Is.Zero, q.Text);
        Assert.That(report.Tests.Select(t => t.Name), Does.Contain("big_contents_identical"));
    }

    /// <summary>
    /// The device scenarios on QEMU's intel-iommu and edu: everything but the DMA engine (a KhoEmu device) runs there,
    /// and the engine's checks must say SKIP rather than pass or fail.
    /// </summary>
    [TestCase("devices", 1)]
    [TestCase("vfio-dma", 4)]
    [TestCase("kexec-vfio-dma", 4)]
    public void DeviceScenarioPassesOnQemuIntelIommuAndEdu(string scenario, int engineChecks)
    {
        var q = Qemu("-m", "512", "-device", "intel-iommu", "-device", "edu", "-kernel", "kernel.elf", "-append", "scenario=" + scenario,
            "-fw_cfg", "name=opt/khoemu/init,file=init.elf", "-fw_cfg", "name=opt/khoemu/kernel,file=kernel.elf");
        var report = KtapReport.Parse(q.Text);
        Assert.That(report.Problems, Is.Empty, q.Text + q.Stderr);
        Assert.That(report.Failed, Is.Zero, q.Text + q.Stderr);
        Assert.That(report.Skipped, Is.EqualTo(engineChecks), q.Text);
        Assert.That(report.Passed, Is.GreaterThanOrEqualTo(4), q.Text);
        Assert.That(q.ExitCode, Is.EqualTo(1), "isa-debug-exit value 0 after a clean run\n" + q.Text + q.Stderr);
    }

    /// <summary>khoemu test's overrides: a wall-clock limit stops the run at a slice boundary and fails it; a
    /// generous one changes nothing; a smaller budget ends the run at the limit.</summary>
    [Test]
    public void TimeoutAndBudgetOverridesEndTheRun()
    {
        var boot = Scenarios.Find("boot")!;
        var cut = Scenarios.Run(boot, new ScenarioOptions { Timeout = TimeSpan.FromMilliseconds(1) });
        Assert.That(cut.TimedOut, Is.True);
        Assert.That(cut.Passed, Is.False);
        Assert.That(cut.Instructions, Is.EqualTo(5_000_000UL), "stopped at the first slice boundary");
        var full = Scenarios.Run(boot, new ScenarioOptions { Timeout = TimeSpan.FromMinutes(10) });
        Assert.That((full.TimedOut, full.Passed), Is.EqualTo((false, true)), full.Serial);
        var budget = Scenarios.Run(boot, new ScenarioOptions { MaxInstructions = 1_000_000 });
        Assert.That(budget.Exit.Kind, Is.EqualTo(ExitKind.InstructionLimit));
        Assert.That(budget.Passed, Is.False);
    }

    [Test]
    public void UnknownScenarioIsReportedAsAFailure()
    {
        var r = Scenarios.Run(new Scenario("no-such-scenario", "", 256UL << 20, 500_000_000));
        Assert.That(r.Report.Failed, Is.EqualTo(1), r.Serial);
        Assert.That(r.Passed, Is.False);
    }

    private HostTool.Result Qemu(params string[] args)
    {
        if (!HostTool.Exists("qemu-system-x86_64")) Assert.Inconclusive("qemu-system-x86_64 is not installed (.ci/run installs it)");
        string[] common = ["-machine", "q35", "-display", "none", "-serial", "stdio", "-no-reboot",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"];
        return HostTool.Run("qemu-system-x86_64", common.Concat(args), _images, TimeSpan.FromMinutes(2));
    }

    [Test]
    public void SameKernelPassesTheBootScenarioOnQemu()
    {
        var q = Qemu("-m", "256", "-kernel", "kernel.elf", "-append", "scenario=boot", "-fw_cfg", "name=opt/khoemu/init,file=init.elf");
        var report = KtapReport.Parse(q.Text);
        Assert.That(report.Problems, Is.Empty, q.Text + q.Stderr);
        Assert.That(report.Tests.Select(t => t.Name), Is.EqualTo(BootTests), q.Text);
        Assert.That(report.Failed, Is.Zero, q.Text);
        Assert.That(q.ExitCode, Is.EqualTo(1), "isa-debug-exit value 0 after a clean run");
    }

    [Test]
    public void FirmwareBootsTheKernelOnQemu()
    {
        File.WriteAllText(Path.Combine(_images, "cmdline"), "scenario=boot");
        var q = Qemu("-m", "256", "-bios", "firmware.bin", "-fw_cfg", "name=opt/khoemu/kernel,file=kernel.elf",
            "-fw_cfg", "name=opt/khoemu/init,file=init.elf", "-fw_cfg", "name=opt/khoemu/cmdline,file=cmdline");
        var report = KtapReport.Parse(q.Text);
        Assert.That(q.Text, Does.StartWith("KhoEmu firmware"));
        Assert.That(q.Text, Does.Contain("firmware: ACPI RSDP at 0x00000000000f"), "QEMU's table-loader ran; RSDP in the F-segment");
        Assert.That(report.Problems, Is.Empty, q.Text + q.Stderr);
        Assert.That(report.Failed, Is.Zero, q.Text);
    }
}
