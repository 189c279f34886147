using KhoEmu.Machine;

namespace KhoEmu.Harness;

/// <summary>What the host-side KHO oracle saw during a scenario (its totals over every handover of the run).</summary>
public sealed record OracleReport(int Handovers, long PreservedBlocks, long PreservedBytes, long RestoredBlocks, long Unrestored,
    IReadOnlyList<string> Violations, string? HandoverProblem, long DeviceWrittenBlocks = 0, long DmaWritesChecked = 0)
{
    /// <summary>The report of a machine's oracle at the end of its run.</summary>
    public static OracleReport From(KhoOracle o) => new(o.Handovers, o.PreservedBlocks, o.PreservedBytes, o.RestoredBlocks,
        o.UnrestoredBlocks, o.Violations.ToList(), o.HandoverProblem, o.DeviceWrittenBlocks, o.DmaWritesChecked);
}
