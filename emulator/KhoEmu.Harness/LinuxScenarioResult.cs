using KhoEmu.Machine;

namespace KhoEmu.Harness;

/// <summary>
/// The outcome of one Linux selftest boot: the checks judged from the console (<see cref="LinuxScenarios.Judge"/>),
/// problems with a KTAP report the test printed, how the machine ended, and the KHO oracle's report.
/// </summary>
public sealed record LinuxScenarioResult(LinuxScenario Scenario, MachineExit Exit, IReadOnlyList<KtapTest> Checks,
    IReadOnlyList<string> Problems, string Serial, ulong Instructions, ulong VirtualNanoseconds, TimeSpan Wall, OracleReport Oracle)
{
    /// <summary>Why the run was cut short by the harness (instruction budget, virtual-time limit), or null.</summary>
    public string? Limit { get; init; }

    public int Failed => Checks.Count(c => !c.Ok) + Problems.Count;

    /// <summary>Passed: every check ok, a well-formed report, the guest ended the run, and no KHO oracle violation.</summary>
    public bool Passed => Failed == 0 && Limit is null && Oracle.Violations.Count == 0;
}
