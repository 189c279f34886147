using KhoEmu.Harness;
using NUnit.Framework;

namespace KhoEmu.Guest.Tests;

/// <summary>kexec-soak's short run: several kexecs in one boot, every one checked by the guest and by the oracle.</summary>
[TestFixture, NonParallelizable]
public sealed class KexecSoakTests
{
    [TestCase(3)]
    public void SoakPassesWithFlatGuestMemory(int cycles)
    {
        var r = Scenarios.Run(Scenarios.Find("kexec-soak")!, extraCmdline: $"cycles={cycles}");
        Assert.That(r.Report.Problems, Is.Empty, r.Serial);
        Assert.That(r.Report.Tests.Where(t => !t.Ok).Select(t => $"{t.Name}: {t.Reason}"), Is.Empty, r.Serial);
        Assert.That(r.Report.Tests, Has.Count.EqualTo(1 + 5 * cycles + 2));
        // Every cycle is named apart, so a failure says which cycle it was.
        Assert.That(r.Report.Tests.Select(t => t.Name).Distinct().Count(), Is.EqualTo(r.Report.Tests.Count));
        Assert.That(r.Oracle.Handovers, Is.EqualTo(cycles), "the oracle saw every handover");
        Assert.That(r.Oracle.Violations, Is.Empty);
        Assert.That(r.Oracle.DmaWritesChecked, Is.GreaterThan(100), "the oracle checked the engine's DMA");
        Assert.That(r.Soak.Select(c => c.Cycle), Is.EqualTo(Enumerable.Range(1, cycles)), r.Serial);
        Assert.That(r.Soak.Select(c => c.GuestFreeKib), Is.All.EqualTo(r.Soak[0].GuestFreeKib), "guest free memory is flat");
        Assert.That(r.Soak.Zip(r.Soak.Skip(1), (a, b) => b.DmaRecords > a.DmaRecords), Is.All.True, "DMA records keep growing");
        foreach (var c in r.Soak)
            TestContext.Out.WriteLine($"cycle {c.Cycle}: guest free {c.GuestFreeKib} KiB, {c.DmaRecords} DMA records, host RSS {c.HostRssKib} KiB, {c.HostSeconds:F1} s");
        Assert.That(r.Passed, Is.True, r.Exit.Diagnostic);
    }

    [Test]
    public void CyclesComeFromTheCommandLine()
    {
        var r = Scenarios.Run(Scenarios.Find("kexec-soak")!, extraCmdline: "cycles=1");
        Assert.That(r.Report.Tests, Has.Count.EqualTo(1 + 5 + 2), r.Serial);
        Assert.That(r.Oracle.Handovers, Is.EqualTo(1));
        Assert.That(r.Passed, Is.True, r.Exit.Diagnostic);
    }
}
