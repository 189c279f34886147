using System.Text;
using KhoEmu.Core.State;
using KhoEmu.Machine;
using KhoEmu.Machine.Snapshots;

namespace KhoEmu.Harness;

/// <summary>
/// Scenarios and snapshots (docs/snapshots.md, "Kexec-boundary snapshots"): a scenario run stopped at instruction N or
/// at its first kexec jump and saved with its console so far; and a scenario's rest run from such a snapshot and
/// judged by the scenario's own checks (the KTAP report of both stages, the oracle's verdict, the exit).
/// </summary>
public static class ScenarioSnapshots
{
    /// <summary>Runs <paramref name="scenario"/> to instruction <paramref name="at"/> (null: to its first kexec jump) and
    /// returns the snapshot there with the console so far, or null when the run ended first.</summary>
    public static SnapshotFile? Take(Scenario scenario, ulong? at, string extraCmdline = "")
    {
        var serial = new MemoryStream();
        using var machine = new PcMachine(Scenarios.Config(scenario, serial, extraCmdline));
        MachineExit exit;
        if (at is { } n) exit = machine.Run(n);
        else
        {
            machine.KhoOracle.JumpSeen += _ => machine.StopAtNextBoundary();
            exit = machine.Run(scenario.InstructionBudget);
            if (exit.Kind != ExitKind.Stopped || machine.KhoOracle.Handovers == 0) return null;
        }
        if (exit.Kind is not (ExitKind.InstructionLimit or ExitKind.Stopped)) return null;
        string reason = at is null ? $"kexec jump 1 at instruction {machine.InstructionCount}" : $"instruction {at}";
        return machine.TakeSnapshot(reason, serial.ToArray());
    }

    /// <summary>
    /// Runs the rest of <paramref name="scenario"/> from <paramref name="snapshot"/> (which must be of that scenario's
    /// machine) to the scenario's instruction budget, optionally with <paramref name="nextKernel"/> in place of the
    /// kernel the snapshot is about to jump to (<see cref="KexecBoundary"/>), and judges it.
    /// </summary>
    /// <exception cref="FormatException">The snapshot is not of this scenario, or cannot be restored (one line).</exception>
    public static ScenarioResult Continue(Scenario scenario, SnapshotFile snapshot, byte[]? nextKernel = null, Stream? liveSerial = null,
        string extraCmdline = "")
    {
        var serial = new MemoryStream();
        Stream output = liveSerial is null ? serial : new Scenarios.TeeStream(serial, liveSerial);
        MachineConfig saved;
        try { saved = SnapshotConfig.Load(snapshot.Find(SnapshotConfig.SectionName) ?? throw new SnapshotFormatException("no config section")); }
        catch (SnapshotFormatException e) { throw new FormatException(e.Message); }
        if (SnapshotConfig.Difference(saved, Scenarios.Config(scenario, Stream.Null, extraCmdline)) is { } diff)
            throw new FormatException($"the snapshot is not of scenario {scenario.Name}: {diff}");
        saved.SerialOutput = output;
        using var machine = new PcMachine(saved);
        try { machine.Restore(snapshot); }
        catch (SnapshotFormatException e) { throw new FormatException(e.Message); }
        if (nextKernel is not null)
        {
            try { KexecBoundary.ReplaceLoadedKernel(machine, saved.Kernel!, nextKernel); }
            catch (Machine.Boot.BootException e) { throw new FormatException(e.Message); }
        }
        var sw = System.Diagnostics.Stopwatch.StartNew();
        ulong budget = scenario.InstructionBudget - Math.Min(scenario.InstructionBudget, machine.InstructionCount);
        var exit = machine.Run(budget);
        sw.Stop();
        byte[] before = snapshot.Find(PcMachine.ConsoleSection)?.Data ?? [];
        string text = Encoding.ASCII.GetString(before) + Encoding.ASCII.GetString(serial.ToArray());
        return Scenarios.Judge(scenario, machine, exit, text, sw.Elapsed);
    }
}
