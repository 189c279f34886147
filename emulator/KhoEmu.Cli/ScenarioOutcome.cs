using KhoEmu.Harness;
using KhoEmu.Machine;

namespace KhoEmu.Cli;

/// <summary>
/// One scenario's result in the form every report of `khoemu test` is written from: its checks (the guest's KTAP
/// tests, then one failure per report problem, machine stop and oracle violation, each with its own name), figures,
/// the oracle's totals and the console.
/// </summary>
internal sealed record ScenarioOutcome(string Name, string Kind, IReadOnlyList<CheckOutcome> Checks, ulong Instructions, TimeSpan Wall,
    MachineExit Exit, OracleReport Oracle, string Console)
{
    public ulong? VirtualNanoseconds { get; init; }
    public bool TimedOut { get; init; }
    public int Passed => Checks.Count(c => c.Verdict == Verdict.Pass);
    public int Failed => Checks.Count(c => c.Verdict == Verdict.Fail);
    public int Skipped => Checks.Count(c => c.Verdict == Verdict.Skip);

    /// <summary>Builds the checks: <paramref name="tests"/> as they are, then the failures around them.</summary>
    public static List<CheckOutcome> BuildChecks(IReadOnlyList<KtapTest> tests, IReadOnlyList<string> problems, string? stop, OracleReport oracle)
    {
        var list = tests.Select(t => new CheckOutcome(t.Name.Length > 0 ? t.Name : $"test {t.Number}",
            t.Skipped ? Verdict.Skip : t.Ok ? Verdict.Pass : Verdict.Fail, t.Reason)).ToList();
        void Extra(string name, IEnumerable<string> messages)
        {
            var all = messages.ToList();
            for (int i = 0; i < all.Count; i++) list.Add(new CheckOutcome(all.Count == 1 ? name : $"{name} {i + 1}", Verdict.Fail, all[i], Extra: true));
        }
        Extra("ktap report", problems);
        Extra("machine", stop is null ? [] : [stop]);
        Extra("kho oracle", oracle.Violations.Select(v => $"oracle: {v}"));
        // Names must be unique within a scenario (JUnit keys results by classname and name).
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < list.Count; i++)
        {
            int n = seen.TryGetValue(list[i].Name, out int k) ? k + 1 : 1;
            seen[list[i].Name] = n;
            if (n > 1) list[i] = list[i] with { Name = $"{list[i].Name} ({n})" };
        }
        return list;
    }

    /// <summary>One of the project's scenarios (or a user's init). A timed-out run's report is unfinished: the
    /// timeout is its failure, not the missing plan or results.</summary>
    public static ScenarioOutcome From(ScenarioResult r, TimeSpan? timeout)
    {
        string? stop = r.TimedOut ? $"timeout: the {timeout?.TotalSeconds:0.###} s wall-clock limit passed; stopped after {r.Wall.TotalSeconds:F2} s at instruction {r.Instructions:N0}"
            : r.Exit.Kind != ExitKind.DebugExit ? $"machine stopped: {r.Exit.Kind} {r.Exit.Diagnostic}"
            : r.Exit.ExitCode != 1 && r.Report.Failed == 0 && r.Report.Problems.Count == 0
                ? $"the guest reported failure: isa-debug-exit code {r.Exit.ExitCode} (init exited with a non-zero status)" : null;
        bool user = r.Scenario.Name.StartsWith(Scenarios.UserInitPrefix, StringComparison.Ordinal);
        return new ScenarioOutcome(r.Scenario.Name, user ? "init" : "khoemu", BuildChecks(r.Report.Tests,
            r.TimedOut ? [] : r.Report.Problems, stop, r.Oracle),
            r.Instructions, r.Wall, r.Exit, r.Oracle, r.Serial) { TimedOut = r.TimedOut };
    }

    /// <summary>One of upstream Linux's selftests.</summary>
    public static ScenarioOutcome From(LinuxScenarioResult r) =>
        new(r.Scenario.Name, "linux", BuildChecks(r.Checks, r.Problems,
            r.Limit switch { null => null, "timeout" => $"timeout: stopped at the wall-clock limit at instruction {r.Instructions:N0}", var l => $"stopped at {l}" }, r.Oracle),
            r.Instructions, r.Wall, r.Exit, r.Oracle, r.Serial) { VirtualNanoseconds = r.VirtualNanoseconds, TimedOut = r.Limit == "timeout" };
}
