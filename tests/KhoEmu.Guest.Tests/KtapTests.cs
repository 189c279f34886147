using KhoEmu.Harness;
using NUnit.Framework;

namespace KhoEmu.Guest.Tests;

public sealed class KtapTests
{
    [Test]
    public void ParsesResultsSkipsAndReasonsAmidConsoleOutput()
    {
        const string text = "firmware noise\r\nKTAP version 1\r\n1..4\r\nok 1 first\r\n# a diagnostic\r\nkernel: something\r\n"
            + "not ok 2 second # expected 3, got 4\r\nok 3 third # SKIP no device\r\nok 4 fourth\r\n";
        var r = KtapReport.Parse(text);
        Assert.That(r.Problems, Is.Empty);
        Assert.That(r.Tests.Select(t => t.Name), Is.EqualTo(new[] { "first", "second", "third", "fourth" }));
        Assert.That((r.Passed, r.Failed, r.Skipped), Is.EqualTo((2, 1, 1)));
        Assert.That(r.Tests[1].Reason, Is.EqualTo("expected 3, got 4"));
        Assert.That(r.Tests[2].Reason, Is.EqualTo("no device"));
        Assert.That(r.Diagnostics, Does.Contain("a diagnostic"));
    }

    [Test]
    public void IncompleteReportsAreProblems()
    {
        Assert.That(KtapReport.Parse("ok 1 x\n").Problems, Has.Some.Contains("header"));
        Assert.That(KtapReport.Parse("KTAP version 1\n1..3\nok 1 a\nok 2 b\n").Problems, Has.Some.Contains("planned 3"));
        Assert.That(KtapReport.Parse("KTAP version 1\n1..2\nok 1 a\nok 3 b\n").Problems, Has.Some.Contains("sequence"));
    }

    /// <summary>TAP 13's form, as a user's test program (khoemu test --init) prints it: a dash before the name.</summary>
    [Test]
    public void ParsesTap13DashedNames()
    {
        var r = KtapReport.Parse("TAP version 13\n1..4\nok 1 - first\nnot ok 2 - second one # why\nok 3 - third # SKIP nope\nok 4 -dash-in-name\n");
        Assert.That(r.Problems, Is.Empty);
        Assert.That(r.Tests.Select(t => t.Name), Is.EqualTo(new[] { "first", "second one", "third", "-dash-in-name" }));
        Assert.That((r.Passed, r.Failed, r.Skipped), Is.EqualTo((2, 1, 1)));
        Assert.That(r.Tests[1].Reason, Is.EqualTo("why"));
    }

    /// <summary>Two tests under one name hide which one failed (and JUnit keys results by name): a report problem.</summary>
    [Test]
    public void RepeatedTestNamesAreAProblem()
    {
        var r = KtapReport.Parse("KTAP version 1\n1..3\nok 1 load\nok 2 other\nok 3 load\n");
        Assert.That(r.Problems, Is.EqualTo(new[] { "test name \"load\" used by 2 tests (1, 3)" }));
    }
}
