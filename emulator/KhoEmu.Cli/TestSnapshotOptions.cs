using System.CommandLine;
using KhoEmu.Core.State;
using KhoEmu.Harness;
using KhoEmu.Machine.Snapshots;

namespace KhoEmu.Cli;

/// <summary>
/// `khoemu test SCENARIO --from-snapshot FILE [--next-kernel IMAGE]` (docs/snapshots.md): the scenario's rest, from a
/// snapshot of its machine (typically taken with <c>khoemu run -append scenario=NAME --snapshot-at kexec</c>), judged by
/// its own checks; <c>--next-kernel</c> puts another PVH kernel where the snapshot's loaded one was about to be entered.
/// </summary>
internal sealed class TestSnapshotOptions
{
    private readonly Option<FileInfo?> _from = new("--from-snapshot")
    { Description = "Run the (one, project) scenario from this snapshot of its machine, e.g. taken at its kexec jump, and judge the rest by the scenario's checks." };
    private readonly Option<FileInfo?> _next = new("--next-kernel")
    { Description = "With --from-snapshot taken at a kexec jump: the PVH ELF kernel to enter instead of the loaded one (same entry offset, no larger; fw_cfg's kernel for later kexecs stays the snapshot's)." };

    public TestSnapshotOptions(Command test)
    {
        test.Options.Add(_from);
        test.Options.Add(_next);
    }

    /// <summary>What one run of the test command does with a scenario.</summary>
    public sealed class Plan(SnapshotFile? snapshot, byte[]? nextKernel)
    {
        public bool FromSnapshot => snapshot is not null;

        public ScenarioResult Run(Scenario s, ScenarioOptions options) =>
            snapshot is null ? Scenarios.Run(s, options)
                : ScenarioSnapshots.Continue(s, snapshot, nextKernel, options.LiveSerial, options.ExtraCmdline);
    }

    /// <summary>Reads the files; a problem is a one-line <see cref="FormatException"/>.</summary>
    public Plan Get(ParseResult p, int ownScenarios, int linuxScenarios)
    {
        var from = p.GetValue(_from);
        var next = p.GetValue(_next);
        if (from is null)
        {
            if (next is not null) throw new FormatException("--next-kernel needs --from-snapshot FILE");
            return new Plan(null, null);
        }
        if (ownScenarios != 1 || linuxScenarios != 0)
            throw new FormatException("--from-snapshot runs exactly one of the project's scenarios (name it)");
        SnapshotFile snapshot;
        try { snapshot = SnapshotFile.Read(from.FullName); }
        catch (SnapshotFormatException e) { throw new FormatException($"--from-snapshot {from}: {e.Message}"); }
        byte[]? kernel = next is null ? null : Machine.QemuOptions.ReadFile("--next-kernel", next.FullName);
        return new Plan(snapshot, kernel);
    }
}
