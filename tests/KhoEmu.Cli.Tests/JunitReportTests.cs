using System.Xml.Linq;
using KhoEmu.Harness;
using KhoEmu.Machine;
using NUnit.Framework;

namespace KhoEmu.Cli.Tests;

/// <summary>The JUnit writer on made-up outcomes: consoles with bytes XML cannot carry, repeated names, extras.</summary>
public sealed class JunitReportTests
{
    private static readonly OracleReport NoOracle = new(0, 0, 0, 0, 0, [], null);

    [Test]
    public void ConsoleControlBytesStayWellFormed()
    {
        var checks = ScenarioOutcome.BuildChecks([new KtapTest(1, "colour", false, false, "bad \u0007 bell")], [], null, NoOracle);
        var o = new ScenarioOutcome("s", "init", checks, 10, TimeSpan.FromSeconds(1.5), new MachineExit(ExitKind.DebugExit, 3, null),
            NoOracle, "\u001b[1mbold\u001b[0m \0 nul\n");
        var doc = JunitReport.Build([o], DateTime.UnixEpoch);
        var text = doc.ToString();
        var back = XDocument.Parse(text);
        Assert.That(back.Root!.Element("testsuite")!.Element("system-out")!.Value, Is.EqualTo("\\x1b[1mbold\\x1b[0m \\x00 nul\n"));
        Assert.That(back.Root.Element("testsuite")!.Attribute("time")!.Value, Is.EqualTo("1.500"));
        Assert.That(back.Root.Element("testsuite")!.Element("testcase")!.Element("failure")!.Attribute("message")!.Value, Is.EqualTo("bad \\x07 bell"));
    }

    /// <summary>Repeated names (a test program's, or several oracle violations) get distinct testcase names; every
    /// report problem, stop and violation is a failure of its own.</summary>
    [Test]
    public void ChecksGetDistinctNamesAndExtrasAreFailures()
    {
        var oracle = NoOracle with { Violations = ["a", "b"] };
        var checks = ScenarioOutcome.BuildChecks([new KtapTest(1, "x", true, false, null), new KtapTest(2, "x", true, false, null)],
            ["planned 3 tests, reported 2"], "machine stopped: TripleFault", oracle);
        Assert.That(checks.Select(c => c.Name), Is.EqualTo(new[] { "x", "x (2)", "ktap report", "machine", "kho oracle 1", "kho oracle 2" }));
        Assert.That(checks.Count(c => c.Verdict == Verdict.Fail), Is.EqualTo(4));
        Assert.That(checks[4].Message, Is.EqualTo("oracle: a"));
    }
}
