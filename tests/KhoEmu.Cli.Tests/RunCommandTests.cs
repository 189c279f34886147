using NUnit.Framework;

namespace KhoEmu.Cli.Tests;

/// <summary>The README's first command: `khoemu run` with no image options is the live-update demonstration.</summary>
public sealed class RunCommandTests
{
    [Test]
    public void DefaultRunShowsTheHandoverSummaryAndExitsZero()
    {
        var r = Khoemu.Run(Khoemu.TempDirectory(), "run", "--no-input");
        string output = r.Text;
        Assert.That(r.ExitCode, Is.EqualTo(0), output + r.Stderr);
        Assert.That(output, Does.Contain("kexec-vfio-dma: jumping with the DMA engine running"), "the guest console streams first");
        int summary = output.IndexOf("== live update summary (scenario kexec-vfio-dma) ==", StringComparison.Ordinal);
        Assert.That(summary, Is.GreaterThan(output.IndexOf("ok 18 finish_sessions", StringComparison.Ordinal)), "the summary follows the console");
        string s = output[summary..];
        Assert.That(s, Does.Match(@"preserved:  2 sessions, 7 files \(1 iommufd, 4 memfd, 2 vfio\), \d+ pages"));
        Assert.That(s, Does.Match(@"blackout:   [\d,]+ guest instructions .* ms host"));
        Assert.That(s, Does.Match(@"DMA:        [\d,]+ device writes between reboot\(KEXEC\) and the jump, [1-9][\d,]* from the jump to the new init"));
        Assert.That(s, Does.Contain(", 0 left reserved"));
        Assert.That(s, Does.Contain("guest:      18 of 18 KTAP tests passed"));
        Assert.That(s, Does.Contain("oracle:     1 handover(s), 0 violations"));
        Assert.That(s, Does.Contain("verdict:    handover verified (exit code 0)"));
        Assert.That(r.Stderr, Is.Empty);
    }

    /// <summary>The oracle's byte flip in a preserved memfd page at the jump: the oracle and the guest both see it,
    /// and the run exits 1 with the reason in the verdict.</summary>
    [Test]
    public void BrokenHandoverExitsOne()
    {
        var r = Khoemu.Run(Khoemu.TempDirectory(), "run", "--no-input", "--kho-inject", "flip=auto");
        Assert.That(r.ExitCode, Is.EqualTo(1), r.Text + r.Stderr);
        Assert.That(r.Text, Does.Contain("injected:   --kho-inject flipped the byte at 0x"));
        Assert.That(r.Text, Does.Match(@"violation:  block 0x[0-9a-f]+ \(order 0, memfd token \d+ of session 'vfio', file page 0\) changed between the kexec jump and its restore"));
        Assert.That(r.Text, Does.Contain("verdict:    handover NOT verified (exit code 1)"));
    }

    /// <summary>Explicit images keep QEMU's isa-debug-exit convention: the built-in kernel with a command line of
    /// the user's is such a run (its guest writes 0, the exit is 1) and prints no summary.</summary>
    [Test]
    public void RunWithACommandLineKeepsTheDebugExitConvention()
    {
        var r = Khoemu.Run(Khoemu.TempDirectory(), "run", "--no-input", "--append", "scenario=boot");
        Assert.That(r.ExitCode, Is.EqualTo(1), r.Text + r.Stderr);
        Assert.That(r.Text, Does.Contain("ok 10 "));
        Assert.That(r.Text, Does.Not.Contain("live update summary"));
    }
}
