using System.Globalization;
using System.Text;
using System.Xml.Linq;

namespace KhoEmu.Cli;

/// <summary>
/// `khoemu test --junit FILE`: the JUnit XML GitLab, Jenkins and GitHub test reporters read (the Ant/Jenkins
/// junit.xsd shape): one testsuite per scenario, one testcase per check with classname "khoemu.KIND.SCENARIO",
/// failure/skipped children with the reason in their message, and the scenario's console in the testsuite's
/// system-out (and a failing testcase's, where GitLab shows it).
/// </summary>
internal static class JunitReport
{
    public static XDocument Build(IReadOnlyList<ScenarioOutcome> outcomes, DateTime started)
    {
        static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("F3", CultureInfo.InvariantCulture);
        var root = new XElement("testsuites",
            new XAttribute("name", "khoemu test"),
            new XAttribute("tests", outcomes.Sum(o => o.Checks.Count)),
            new XAttribute("failures", outcomes.Sum(o => o.Failed)),
            new XAttribute("errors", 0),
            new XAttribute("skipped", outcomes.Sum(o => o.Skipped)),
            new XAttribute("time", Seconds(TimeSpan.FromTicks(outcomes.Sum(o => o.Wall.Ticks)))));
        int id = 0;
        foreach (var o in outcomes)
        {
            string console = XmlSafe(o.Console);
            var suite = new XElement("testsuite",
                new XAttribute("name", o.Name),
                new XAttribute("id", id++),
                new XAttribute("package", "khoemu." + o.Kind),
                new XAttribute("tests", o.Checks.Count),
                new XAttribute("failures", o.Failed),
                new XAttribute("errors", 0),
                new XAttribute("skipped", o.Skipped),
                new XAttribute("time", Seconds(o.Wall)),
                new XAttribute("timestamp", started.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture)),
                new XAttribute("hostname", XmlSafe(Environment.MachineName)));
            suite.Add(new XElement("properties",
                Property("instructions", o.Instructions.ToString(CultureInfo.InvariantCulture)),
                Property("exit", $"{o.Exit.Kind} {o.Exit.ExitCode}"),
                Property("oracle.handovers", o.Oracle.Handovers.ToString(CultureInfo.InvariantCulture)),
                Property("oracle.violations", o.Oracle.Violations.Count.ToString(CultureInfo.InvariantCulture))));
            foreach (var c in o.Checks)
            {
                // KTAP gives no per-test times: the scenario's time is on its testsuite, each testcase has 0.
                var tc = new XElement("testcase",
                    new XAttribute("classname", $"khoemu.{o.Kind}.{o.Name}"),
                    new XAttribute("name", XmlSafe(c.Name)),
                    new XAttribute("time", "0.000"));
                if (c.Verdict == Verdict.Fail)
                {
                    string message = XmlSafe(c.Message ?? "failed");
                    tc.Add(new XElement("failure", new XAttribute("message", message), new XAttribute("type", c.Extra ? "khoemu" : "ktap"), message));
                    tc.Add(new XElement("system-out", console));
                }
                else if (c.Verdict == Verdict.Skip) tc.Add(new XElement("skipped", new XAttribute("message", XmlSafe(c.Message ?? "skipped"))));
                suite.Add(tc);
            }
            suite.Add(new XElement("system-out", console));
            root.Add(suite);
        }
        return new XDocument(new XDeclaration("1.0", "UTF-8", null), root);
    }

    private static XElement Property(string name, string value) => new("property", new XAttribute("name", name), new XAttribute("value", value));

    /// <summary>Characters XML 1.0 cannot carry (a guest console has escape sequences and stray control bytes) as
    /// "\xNN", so the document stays well-formed.</summary>
    public static string XmlSafe(string text)
    {
        StringBuilder? sb = null;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            bool ok = c is '\t' or '\n' or '\r' || (c >= 0x20 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD)
                || (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                || (char.IsLowSurrogate(c) && i > 0 && char.IsHighSurrogate(text[i - 1]));
            if (ok && sb is null) continue;
            sb ??= new StringBuilder(text, 0, i, text.Length + 16);
            if (ok) sb.Append(c);
            else sb.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
        }
        return sb?.ToString() ?? text;
    }
}
