using KhoEmu.Harness;
using KhoEmu.Machine;

namespace KhoEmu.Linux.Tests;

/// <summary>What one boot of the Linux check printed on its serial console, and how the machine ended.</summary>
internal sealed record GuestConsole(string Machine, string Text, int ExitCode, string Ending)
{
    public KtapReport Report { get; } = KtapReport.Parse(Text);

    /// <summary>KhoEmu's exit (null on QEMU).</summary>
    public MachineExit? Exit { get; init; }

    /// <summary>
    /// The KTAP lines /init printed (header, plan, results), without the "# " diagnostics, which carry dates,
    /// counters and addresses that differ between machines.
    /// </summary>
    public IReadOnlyList<string> KtapLines
    {
        get
        {
            var lines = new List<string>();
            bool inReport = false;
            foreach (var raw in Text.Split('\n'))
            {
                string line = raw.TrimEnd('\r').Trim();
                if (line == "KTAP version 1") { inReport = true; lines.Clear(); }
                if (!inReport) continue;
                if (line == "KTAP version 1" || line.StartsWith("1..", StringComparison.Ordinal)
                    || line.StartsWith("ok ", StringComparison.Ordinal) || line.StartsWith("not ok ", StringComparison.Ordinal))
                    lines.Add(line);
            }
            return lines;
        }
    }

    /// <summary>The end of the console, for failure messages: where a boot stopped is in its last lines.</summary>
    public string Tail(int lines = 60) =>
        $"{Machine}: {Ending}, exit code {ExitCode}; last {lines} console lines:\n"
        + string.Join('\n', Text.Split('\n').Select(l => l.TrimEnd('\r')).TakeLast(lines));

    /// <summary>The results that did not pass, with /init's reasons.</summary>
    public IEnumerable<string> Failures => Report.Tests.Where(t => !t.Ok || t.Skipped).Select(t => $"{t.Number} {t.Name}: {t.Reason}")
        .Concat(Report.Problems);
}
