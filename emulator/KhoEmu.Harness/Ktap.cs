using System.Text.RegularExpressions;

namespace KhoEmu.Harness;

/// <summary>One test line of a KTAP report.</summary>
public sealed record KtapTest(int Number, string Name, bool Ok, bool Skipped, string? Reason);

/// <summary>
/// A parsed KTAP (kselftest) report: "KTAP version 1" (or "TAP version 13"/"14"), the plan "1..N", then "ok N name",
/// "not ok N name # reason" and "ok N name # SKIP reason", the name optionally after a dash ("ok N - name", TAP's form). Lines that are not KTAP (console output) are ignored; diagnostics ("# ...") kept.
/// </summary>
public sealed partial class KtapReport
{
    public bool HasHeader { get; private init; }
    public int? Planned { get; private init; }
    public IReadOnlyList<KtapTest> Tests { get; private init; } = [];
    public IReadOnlyList<string> Diagnostics { get; private init; } = [];

    public int Passed => Tests.Count(t => t.Ok && !t.Skipped);
    public int Failed => Tests.Count(t => !t.Ok);
    public int Skipped => Tests.Count(t => t.Skipped);

    /// <summary>Problems with the report itself: no header, no plan, fewer or more results than planned, gaps.</summary>
    public IReadOnlyList<string> Problems
    {
        get
        {
            var p = new List<string>();
            if (!HasHeader) p.Add("no \"KTAP version 1\" header");
            if (Planned is null) p.Add("no test plan (1..N)");
            else if (Tests.Count != Planned) p.Add($"planned {Planned} tests, reported {Tests.Count}");
            for (int i = 0; i < Tests.Count; i++)
                if (Tests[i].Number != i + 1) { p.Add($"test numbers out of sequence at {Tests[i].Number}"); break; }
            // Each test needs its own name: CI reports (JUnit) key results by name, and a repeated one hides which failed.
            foreach (var g in Tests.Where(t => t.Name.Length > 0).GroupBy(t => t.Name).Where(g => g.Count() > 1))
                p.Add($"test name \"{g.Key}\" used by {g.Count()} tests ({string.Join(", ", g.Select(t => t.Number))})");
            return p;
        }
    }

    // "ok N name" (KTAP) or "ok N - name" (TAP 13/14, and KTAP allows the dash too), then an optional "# directive".
    [GeneratedRegex(@"^(not ok|ok)\s+(\d+)(?:\s+-(?=\s|$)\s*|\s+|$)([^#]*?)\s*(?:#\s*(.*))?$")]
    private static partial Regex ResultLine();

    [GeneratedRegex(@"^1\.\.(\d+)$")]
    private static partial Regex PlanLine();

    public static KtapReport Parse(string text)
    {
        bool header = false;
        int? plan = null;
        var tests = new List<KtapTest>();
        var diags = new List<string>();
        foreach (var raw in text.Split('\n'))
        {
            string line = raw.TrimEnd('\r').Trim();
            if (line is "KTAP version 1" or "TAP version 13" or "TAP version 14") { header = true; continue; }
            if (!header) continue;
            var m = PlanLine().Match(line);
            if (m.Success) { plan = int.Parse(m.Groups[1].Value); continue; }
            m = ResultLine().Match(line);
            if (m.Success)
            {
                string directive = m.Groups[4].Success ? m.Groups[4].Value.Trim() : "";
                bool skip = directive.StartsWith("SKIP", StringComparison.OrdinalIgnoreCase);
                string? reason = directive.Length == 0 ? null : skip ? directive[4..].Trim() : directive;
                tests.Add(new KtapTest(int.Parse(m.Groups[2].Value), m.Groups[3].Value.Trim(), m.Groups[1].Value == "ok", skip, reason));
                continue;
            }
            if (line.StartsWith('#')) diags.Add(line[1..].Trim());
        }
        return new KtapReport { HasHeader = header, Planned = plan, Tests = tests, Diagnostics = diags };
    }
}
