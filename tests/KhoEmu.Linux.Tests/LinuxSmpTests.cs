using System.Text.RegularExpressions;
using NUnit.Framework;

namespace KhoEmu.Linux.Tests;

/// <summary>
/// Debian's stock kernel on a two-processor KhoEmu (-smp 2): the MADT lists both local APICs, the BSP starts the AP
/// with INIT-SIPI-SIPI, Linux reports both processors activated and /proc/cpuinfo lists two, the board checks pass
/// and their KTAP report equals QEMU's with -smp 2, and the guest powers off. One KhoEmu boot.
/// </summary>
[TestFixture, Explicit("a two-CPU Debian boot: dotnet test -c Release --filter TestCategory=LinuxFull"), NonParallelizable, Category("LinuxFull")]
public sealed class LinuxSmpTests
{
    private const int Cpus = 2;

    [Test]
    public void BzImageBringsUpTwoProcessorsAndPowersOffLikeQemu()
    {
        var files = LinuxBootFiles.Prepare();
        string log = Path.Combine(TestContext.CurrentContext.WorkDirectory, "linux-smp2-khoemu.log");
        TestContext.Progress.WriteLine($"booting bzImage with -smp {Cpus} on KhoEmu; console: {log}");
        var k = LinuxMachines.RunKhoEmu(files.BzImage, files.Initrd, log, cpus: Cpus);
        TestContext.AddTestAttachment(log);
        TestContext.Progress.WriteLine($"bzImage -smp {Cpus} on KhoEmu: {k.Ending}");

        Assert.That(k.Text, Does.Contain("smpboot: Allowing 2 CPUs, 0 hotplug CPUs"), "the MADT lists two processors\n" + k.Tail());
        Assert.That(k.Text, Does.Contain("smp: Brought up 1 node, 2 CPUs"), k.Tail());
        Assert.That(k.Text, Does.Contain("smpboot: Total of 2 processors activated"), k.Tail());
        Assert.That(k.Text, Does.Contain(LinuxKhoSelftestTests.X2ApicDeclined),
            "CPUID's x2APIC is seen; without interrupt remapping in x2APIC mode Linux keeps xAPIC mode\n" + k.Tail());
        Assert.That(k.Text, Does.Contain("# processors: 2"), "/proc/cpuinfo lists both processors\n" + k.Tail());
        // /proc/interrupts has one count column per online processor.
        var ioapicLine = Regex.Match(k.Text, @"^#\s+\d+:((\s+\d+)+)\s+IO-APIC", RegexOptions.Multiline);
        Assert.That(ioapicLine.Success, Is.True, k.Tail());
        Assert.That(ioapicLine.Groups[2].Captures, Has.Count.EqualTo(Cpus), "columns of /proc/interrupts\n" + ioapicLine.Value);
        Assert.That(k.Report.HasHeader, Is.True, "/init never printed its KTAP report\n" + k.Tail());
        Assert.That(k.Failures, Is.Empty, k.Tail());
        Assert.That(k.Report.Passed, Is.EqualTo(k.Report.Planned), k.Tail());
        Assert.That(k.Exit?.Kind, Is.EqualTo(KhoEmu.Machine.ExitKind.PowerOff), "the run ends in the guest's ACPI power-off\n" + k.Tail());

        if (!HostTool.Exists("qemu-system-x86_64")) Assert.Inconclusive("qemu-system-x86_64 is not installed: KhoEmu's run passed but was not compared");
        var q = LinuxMachines.RunQemu(files.BzImage, files.Initrd, files.Directory, cpus: Cpus);
        Assert.That(q.Text, Does.Contain("smpboot: Total of 2 processors activated"), q.Tail());
        Assert.That(q.Text, Does.Contain("# processors: 2"), q.Tail());
        Assert.That(k.KtapLines, Is.EqualTo(q.KtapLines), "/init's KTAP report differs between KhoEmu and QEMU\n" + k.Tail() + "\n" + q.Tail());
    }
}
