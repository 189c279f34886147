using System.Globalization;
using System.Text.Json;
using System.Xml.Linq;
using NUnit.Framework;

namespace KhoEmu.Cli.Tests;

/// <summary>`khoemu test` for CI: JUnit and JSON reports, a user's own init with its KTAP, timeouts, bad values.</summary>
public sealed class TestCommandTests
{
    /// <summary>
    /// The JUnit shape GitLab, Jenkins and GitHub's reporters read (junit.xsd as Jenkins has it): testsuites with
    /// totals, a testsuite per scenario with name/tests/failures/errors/skipped/time, testcases with classname, name
    /// and time, failure and skipped with a message, system-out. Counts must equal what the elements say.
    /// </summary>
    private static void AssertJunitShape(XDocument doc, int suites)
    {
        var root = doc.Root!;
        Assert.That(root.Name.LocalName, Is.EqualTo("testsuites"));
        var all = root.Elements("testsuite").ToList();
        Assert.That(all, Has.Count.EqualTo(suites));
        foreach (var suite in all)
        {
            foreach (var a in new[] { "name", "tests", "failures", "errors", "skipped", "time", "timestamp" })
                Assert.That(suite.Attribute(a), Is.Not.Null, $"testsuite@{a}");
            var cases = suite.Elements("testcase").ToList();
            Assert.That(int.Parse(suite.Attribute("tests")!.Value, CultureInfo.InvariantCulture), Is.EqualTo(cases.Count));
            Assert.That(int.Parse(suite.Attribute("failures")!.Value, CultureInfo.InvariantCulture), Is.EqualTo(cases.Count(c => c.Element("failure") is not null)));
            Assert.That(int.Parse(suite.Attribute("skipped")!.Value, CultureInfo.InvariantCulture), Is.EqualTo(cases.Count(c => c.Element("skipped") is not null)));
            Assert.That(double.TryParse(suite.Attribute("time")!.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out _), Is.True);
            Assert.That(suite.Element("system-out"), Is.Not.Null);
            foreach (var c in cases)
            {
                Assert.That(c.Attribute("classname")?.Value, Is.Not.Empty);
                Assert.That(c.Attribute("name")?.Value, Is.Not.Empty);
                Assert.That(double.TryParse(c.Attribute("time")?.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out _), Is.True);
                if (c.Element("failure") is { } f) Assert.That(f.Attribute("message")?.Value, Is.Not.Empty);
            }
            Assert.That(cases.Select(c => c.Attribute("name")!.Value), Is.Unique, "names are unique within a scenario");
        }
        foreach (var a in new[] { "tests", "failures", "skipped" })
            Assert.That(int.Parse(root.Attribute(a)!.Value, CultureInfo.InvariantCulture),
                Is.EqualTo(all.Sum(s => int.Parse(s.Attribute(a)!.Value, CultureInfo.InvariantCulture))), $"testsuites@{a}");
    }

    [Test]
    public void JunitAndJsonDescribeEveryScenario()
    {
        string dir = Khoemu.TempDirectory();
        var r = Khoemu.Run(dir, "test", "boot", "handover-faults", "--junit", "r.xml", "--json", "r.json");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Text + r.Stderr);
        Assert.That(r.Text, Does.Contain("39 passed, 0 failed"));
        var doc = XDocument.Load(Path.Combine(dir, "r.xml"));
        AssertJunitShape(doc, 2);
        var hf = doc.Root!.Elements("testsuite").Single(s => s.Attribute("name")!.Value == "handover-faults");
        Assert.That(hf.Elements("testcase").Count(), Is.EqualTo(29));
        Assert.That(hf.Elements("testcase").First().Attribute("classname")!.Value, Is.EqualTo("khoemu.khoemu.handover-faults"));
        Assert.That(hf.Element("system-out")!.Value, Does.Contain("KhoEmu kernel"));

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "r.json")));
        var scenarios = json.RootElement.GetProperty("scenarios");
        Assert.That(scenarios.GetArrayLength(), Is.EqualTo(2));
        var h = scenarios[1];
        Assert.That(h.GetProperty("name").GetString(), Is.EqualTo("handover-faults"));
        Assert.That(h.GetProperty("checks").GetArrayLength(), Is.EqualTo(29));
        Assert.That(h.GetProperty("checks").EnumerateArray().All(c => c.GetProperty("verdict").GetString() == "pass"), Is.True);
        Assert.That(h.GetProperty("instructions").GetUInt64(), Is.GreaterThan(10_000_000UL));
        Assert.That(h.GetProperty("wallSeconds").GetDouble(), Is.GreaterThan(0));
        var oracle = h.GetProperty("oracle");
        Assert.That(oracle.GetProperty("handovers").GetInt32(), Is.EqualTo(4));
        // Every round leaves its broken items' blocks reserved: the total covers all four handovers, not the last.
        Assert.That(oracle.GetProperty("leftReserved").GetInt64(), Is.GreaterThan(oracle.GetProperty("preservedBlocks").GetInt64() / 8));
        Assert.That(json.RootElement.GetProperty("totals").GetProperty("passed").GetInt32(), Is.EqualTo(39));
    }

    /// <summary>A user's own static C program as init, printing TAP 13: each test becomes a check and a testcase.</summary>
    [Test]
    public void UserInitKtapBecomesChecks()
    {
        if (!HostTool.Exists("gcc")) Assert.Inconclusive("gcc is not installed");
        string dir = Khoemu.TempDirectory();
        File.WriteAllText(Path.Combine(dir, "t.c"), """
            static long sys3(long n, long a, long b, long c) {
                long r;
                __asm__ volatile ("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
                return r;
            }
            static void put(const char *s) { long n = 0; while (s[n]) n++; sys3(1, 1, (long)s, n); }
            void _start(void) {
                put("TAP version 13\n1..3\n");
                put(sys3(39, 0, 0, 0) > 0 ? "ok 1 - getpid_is_positive\n" : "not ok 1 - getpid_is_positive\n");
                put("not ok 2 - fails_on_purpose # expected to fail\n");
                put("ok 3 - not_here # SKIP no such device\n");
                sys3(60, 1, 0, 0);
                for (;;) { }
            }
            """);
        var cc = HostTool.Run("gcc", ["-static", "-nostdlib", "-ffreestanding", "-fno-builtin", "-fno-tree-loop-distribute-patterns",
            "-fno-pie", "-no-pie", "-fno-stack-protector", "-O2", "-o", "t.elf", "t.c"], dir, TimeSpan.FromMinutes(1));
        Assert.That(cc.ExitCode, Is.EqualTo(0), cc.Stderr);

        var r = Khoemu.Run(dir, "test", "--init", "t.elf", "--junit", "r.xml", "--json", "r.json");
        Assert.That(r.ExitCode, Is.EqualTo(1), r.Text + r.Stderr);
        Assert.That(r.Text, Does.Contain("PASS init:t.elf/getpid_is_positive"));
        Assert.That(r.Text, Does.Contain("FAIL init:t.elf/fails_on_purpose (expected to fail)"));
        Assert.That(r.Text, Does.Contain("1 passed, 1 failed, 1 skipped"));
        var doc = XDocument.Load(Path.Combine(dir, "r.xml"));
        AssertJunitShape(doc, 1);
        var cases = doc.Root!.Element("testsuite")!.Elements("testcase").ToList();
        Assert.That(cases.Select(c => c.Attribute("name")!.Value), Is.EqualTo(new[] { "getpid_is_positive", "fails_on_purpose", "not_here" }));
        Assert.That(cases[1].Element("failure")!.Attribute("message")!.Value, Is.EqualTo("expected to fail"));
        Assert.That(cases[1].Element("system-out")!.Value, Does.Contain("init exited with status 1"));
        Assert.That(cases[2].Element("skipped")!.Attribute("message")!.Value, Is.EqualTo("no such device"));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "r.json")));
        var verdicts = json.RootElement.GetProperty("scenarios")[0].GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("verdict").GetString());
        Assert.That(verdicts, Is.EqualTo(new[] { "pass", "fail", "skip" }));
    }

    /// <summary>
    /// A tiny wall-clock limit: each scenario is stopped at the first instruction boundary after it (the end of a
    /// slice), fails with "timeout" as its one failure, and the next scenario still runs with its own clock.
    /// </summary>
    [Test]
    public void TimeoutFailsEachScenarioOnItsOwn()
    {
        string dir = Khoemu.TempDirectory();
        var r = Khoemu.Run(dir, "test", "boot", "devices", "--timeout", "1ms", "--junit", "r.xml", "--json", "r.json");
        Assert.That(r.ExitCode, Is.EqualTo(1), r.Text + r.Stderr);
        Assert.That(r.Stderr, Is.Empty);
        var doc = XDocument.Load(Path.Combine(dir, "r.xml"));
        AssertJunitShape(doc, 2);
        foreach (var suite in doc.Root!.Elements("testsuite"))
        {
            var failed = suite.Elements("testcase").Where(c => c.Element("failure") is not null).ToList();
            Assert.That(failed, Has.Count.EqualTo(1), suite.ToString());
            Assert.That(failed[0].Attribute("name")!.Value, Is.EqualTo("machine"));
            Assert.That(failed[0].Element("failure")!.Attribute("message")!.Value, Does.StartWith("timeout"));
        }
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "r.json")));
        foreach (var s in json.RootElement.GetProperty("scenarios").EnumerateArray())
        {
            Assert.That(s.GetProperty("timedOut").GetBoolean(), Is.True);
            Assert.That(s.GetProperty("instructions").GetUInt64(), Is.LessThan(100_000_000UL), "stopped long before its budget");
        }
    }

    [TestCase("test", "--timeout", "soon")]
    [TestCase("test", "--timeout", "0")]
    [TestCase("test", "-m", "0")]
    [TestCase("test", "-m", "lots")]
    [TestCase("test", "--max-instructions", "0")]
    [TestCase("test", "--max-instructions", "-5")]
    [TestCase("test", "--junit", "no-such-dir/r.xml")]
    [TestCase("test", "--json", ".")]
    [TestCase("test", "--init", "/dev/zero")]
    [TestCase("test", "--init", "missing.elf")]
    [TestCase("test", "--kernel", "missing.elf")]
    [TestCase("test", "no-such-scenario")]
    [TestCase("test", "--bogus")]
    [TestCase("run", "--kho-inject", "flip=nowhere")]
    public void BadValuesExitTwoWithOneLine(params string[] args)
    {
        var r = Khoemu.Run(Khoemu.TempDirectory(), args);
        Assert.That(r.ExitCode, Is.EqualTo(2), r.Text + r.Stderr);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), r.Stderr);
        Assert.That(lines[0], Does.StartWith("khoemu: "));
        Assert.That(r.Text, Does.Not.Contain("# scenario"), "nothing ran");
    }

    [Test]
    public void InitCannotBeCombinedWithScenarioNames()
    {
        string dir = Khoemu.TempDirectory();
        File.WriteAllBytes(Path.Combine(dir, "x.elf"), [0x7F, (byte)'E', (byte)'L', (byte)'F']);
        var r = Khoemu.Run(dir, "test", "--init", "x.elf", "boot");
        Assert.That(r.ExitCode, Is.EqualTo(2));
        Assert.That(r.Stderr.Trim(), Does.StartWith("khoemu: --init runs your program as the only scenario"));
    }
}
