using System.Globalization;
using System.Text;
using KhoEmu.Harness;
using KhoEmu.Machine;

namespace KhoEmu.Cli;

/// <summary>
/// What `khoemu run` with no image options shows: the project's firmware, kernel and init run the kexec-vfio-dma
/// scenario (memfds in two live-update sessions, iommufd and two vfio devices, the DMA engine writing through the
/// IOMMU during the jump; the second kernel retrieves everything and checks it), and this summary of it, judged by
/// the guest's KTAP report and the host's KHO oracle, follows the console.
/// </summary>
internal static class LiveUpdateDemo
{
    /// <summary>The scenario the demonstration runs (Scenarios.All has its description).</summary>
    public const string Scenario = "kexec-vfio-dma";

    private static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
    private static string N(ulong v) => v.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>The lines of the summary, and whether the handover verified (every check of guest and oracle).</summary>
    public static (IReadOnlyList<string> Lines, bool Verified) Summarize(PcMachine machine, MachineExit exit, string console)
    {
        var o = machine.KhoOracle;
        var report = KtapReport.Parse(console);
        var lines = new List<string> { "", $"== live update summary (scenario {Scenario}) ==" };
        var why = new List<string>();
        foreach (var j in o.Jumps)
        {
            var h = j.Handover;
            var kinds = h.Sessions.SelectMany(s => s.Files).GroupBy(f => f.Compatible.Split('-')[0])
                .Select(g => $"{g.Count()} {g.Key}");
            lines.Add($"preserved:  {h.Sessions.Count} sessions, {h.Sessions.Sum(s => s.Files.Count)} files ({string.Join(", ", kinds)}), "
                + $"{N(h.PreservedPages)} pages ({Size(h.PreservedBytes)}) in {N((long)h.Blocks.Count)} blocks" + (o.Jumps.Count > 1 ? $" (jump {j.Index})" : ""));
            if (j.InjectedAt is { } at) lines.Add($"injected:   --kho-inject flipped the byte at 0x{at:x} ({j.InjectedOwner}) at jump {j.Index}");
            if (j.BlackoutToInit is { } toInit)
                lines.Add($"blackout:   {N(toInit)} guest instructions ({toInit / 1e6:F3} ms virtual) from reboot(KEXEC) to the new init, "
                    + $"{j.BeginToInitWall.TotalMilliseconds:F1} ms host; {N(j.BlackoutToJump ?? 0)} of them before the jump");
            else why.Add($"jump {j.Index}: the new kernel's init never ran");
            if (j.DeviceWritesAtInit >= j.DeviceWritesAtJump)
                lines.Add($"DMA:        {N(j.DeviceWritesAtJump - j.DeviceWritesAtBegin)} device writes between reboot(KEXEC) and the jump, "
                    + $"{N(j.DeviceWritesAtInit - j.DeviceWritesAtJump)} from the jump to the new init");
        }
        if (o.Handovers == 0) why.Add("no kexec handover was seen");
        var engine = machine.DmaEngine;
        lines.Add($"DMA engine: {N(engine.Written)} ring records written in all, {N(engine.Faults)} IOMMU faults, "
            + $"{N(o.DmaWritesChecked)} DMA writes checked against the IOMMU tables");
        lines.Add($"retrieved:  {N(o.RestoredBlocks)} of {N(o.PreservedBlocks)} preserved blocks restored by the new kernel "
            + $"({N(o.DeviceWrittenBlocks)} written only by device DMA, the others checked unchanged), {N(o.UnrestoredBlocks)} left reserved");
        if (o.UnrestoredBlocks > 0) why.Add($"{o.UnrestoredBlocks} preserved blocks were never restored");
        lines.Add($"guest:      {report.Passed} of {report.Tests.Count} KTAP tests passed" + (report.Skipped > 0 ? $", {report.Skipped} skipped" : "")
            + $"; {exit.Kind}{(exit.Kind == ExitKind.DebugExit ? $" code {exit.ExitCode}" : "")} after {N(machine.InstructionCount)} instructions");
        foreach (var t in report.Tests.Where(t => !t.Ok)) why.Add($"guest test {t.Number} {t.Name} failed{(t.Reason is null ? "" : $": {t.Reason}")}");
        foreach (var p in report.Problems) why.Add($"guest report: {p}");
        if (exit.Kind != ExitKind.DebugExit || exit.ExitCode != 1)
            why.Add($"the guest did not end cleanly: {exit.Kind}{(exit.Kind == ExitKind.DebugExit ? $" code {exit.ExitCode}" : "")}{(exit.Diagnostic is null ? "" : $" ({exit.Diagnostic})")}");
        lines.Add($"oracle:     {o.Handovers} handover(s), {o.Violations.Count} violations" + (o.HandoverProblem is { } hp ? $"; handover unreadable: {hp}" : ""));
        if (o.HandoverProblem is { } problem) why.Add($"the oracle could not read the handover: {problem}");
        foreach (var v in o.Violations)
        {
            lines.Add($"violation:  {v}");
            why.Add("oracle violation");
        }
        bool verified = why.Count == 0;
        lines.Add(verified ? "verdict:    handover verified (exit code 0)"
            : $"verdict:    handover NOT verified (exit code 1): {string.Join("; ", why.Distinct().Take(5))}" + (why.Distinct().Count() > 5 ? "; ..." : ""));
        return (lines, verified);
    }

    private static string Size(long bytes) => bytes >= 1 << 20 ? $"{bytes / (double)(1 << 20):F1} MiB" : $"{bytes / 1024} KiB";

    /// <summary>A copy of the console for the summary, written next to the live one.</summary>
    public static (Stream Serial, Func<string> Text) Capture(Stream live)
    {
        var copy = new MemoryStream();
        return (new Scenarios.TeeStream(copy, live), () => Encoding.ASCII.GetString(copy.ToArray()));
    }
}
