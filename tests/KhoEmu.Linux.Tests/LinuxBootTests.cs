using NUnit.Framework;

namespace KhoEmu.Linux.Tests;

/// <summary>
/// Debian's stock cloud kernel, unmodified, boots the check initramfs (tests/linux/init.sh) to busybox on KhoEmu, as
/// the bzImage and as the PVH vmlinux inside it, and on QEMU q35 from the same bzImage. The guest judges the board
/// (x87, RTC, ACPI tables, I/O APIC, VT-d, clocksource, x87 maths against the host CPU) and reports KTAP; every
/// line must pass, KhoEmu's report must equal QEMU's line for line, and the run must end in the guest's power-off.
/// </summary>
[TestFixture, NonParallelizable, Category("Linux")]
public sealed class LinuxBootTests
{
    private LinuxBootFiles _files = null!;
    private Lazy<GuestConsole?> _qemu = null!;

    [OneTimeSetUp]
    public void Prepare()
    {
        _files = LinuxBootFiles.Prepare();
        _qemu = new(() => HostTool.Exists("qemu-system-x86_64") ? LinuxMachines.RunQemu(_files.BzImage, _files.Initrd, _files.Directory) : null);
    }

    [Test]
    public void BzImageBootsToBusyboxAndPowersOffOnQemu()
    {
        var q = _qemu.Value ?? Inconclusive();
        AssertEveryCheckPassed(q);
        Assert.That(q.Text, Does.Contain("reboot: Power down"), q.Tail());
        Assert.That(q.ExitCode, Is.Zero, "QEMU exits 0 when the guest powers off\n" + q.Tail());
    }

    [Test]
    public void BzImageBootsToBusyboxAndPowersOffOnKhoEmu() => BootsLikeQemu(_files.BzImage);

    /// <summary>A second long KhoEmu boot: in the LinuxFull category, which .ci/run runs in Release.</summary>
    [Test, Explicit("a second Debian boot on KhoEmu: dotnet test -c Release --filter TestCategory=LinuxFull"), Category("LinuxFull")]
    public void PvhVmlinuxBootsToBusyboxAndPowersOffOnKhoEmu() => BootsLikeQemu(_files.Vmlinux);

    /// <summary>
    /// The checks can fail: on QEMU without intel-iommu and with /init told a different RTC start, exactly the VT-d
    /// checks and the date check fail (and the KTAP report is still complete).
    /// </summary>
    [Test]
    public void ChecksFailOnABoardWithoutVtdAndAWrongClock()
    {
        if (!HostTool.Exists("qemu-system-x86_64")) Inconclusive();
        var q = LinuxMachines.RunQemu(_files.BzImage, _files.Initrd, _files.Directory, withIommu: false,
            announcedRtc: LinuxMachines.RtcBase.AddDays(1));
        Assert.That(q.Report.Problems, Is.Empty, q.Tail());
        Assert.That(q.Report.Tests.Where(t => !t.Ok).Select(t => t.Name),
            Is.EquivalentTo(new[] { "date matches rtc base", "acpi table DMAR", "dmar found" }), q.Tail());
        Assert.That(q.ExitCode, Is.Zero, "the guest still powers off\n" + q.Tail());
    }

    private void BootsLikeQemu(string kernel)
    {
        string log = Path.Combine(TestContext.CurrentContext.WorkDirectory, $"linux-{Path.GetFileName(kernel)}-khoemu.log");
        TestContext.Progress.WriteLine($"booting {Path.GetFileName(kernel)} on KhoEmu; console: {log}");
        var k = LinuxMachines.RunKhoEmu(kernel, _files.Initrd, log);
        TestContext.AddTestAttachment(log);
        TestContext.Progress.WriteLine($"{Path.GetFileName(kernel)} on KhoEmu: {k.Ending}");
        AssertEveryCheckPassed(k);
        Assert.That(k.Exit?.Kind, Is.EqualTo(KhoEmu.Machine.ExitKind.PowerOff), "the run ends in the guest's ACPI power-off\n" + k.Tail());
        Assert.That(k.ExitCode, Is.Zero, k.Tail());
        // The brief's board describes its tables from an XSDT (QEMU 7.2 builds only an RSDT; /init accepts the root
        // table the RSDP revision names, so its report is the same on both).
        Assert.That(k.Text, Does.Match(@"ACPI: XSDT 0x"), "KhoEmu's RSDP points at an XSDT\n" + k.Tail());
        var q = _qemu.Value ?? Inconclusive();
        Assert.That(k.KtapLines, Is.EqualTo(q.KtapLines), "/init's KTAP report differs between KhoEmu and QEMU\n" + k.Tail() + "\n" + q.Tail());
    }

    private static void AssertEveryCheckPassed(GuestConsole run)
    {
        Assert.That(run.Report.HasHeader, Is.True, "/init never printed its KTAP report\n" + run.Tail());
        Assert.That(run.Failures, Is.Empty, run.Tail());
        Assert.That(run.Report.Passed, Is.EqualTo(run.Report.Planned), run.Tail());
    }

    private static GuestConsole Inconclusive()
    {
        Assert.Inconclusive("qemu-system-x86_64 is not installed (.ci/run installs it)");
        throw new InvalidOperationException("unreachable");
    }
}
