using System.CommandLine;
using KhoEmu.Core.State;
using KhoEmu.Machine;
using KhoEmu.Machine.Snapshots;

namespace KhoEmu.Cli;

/// <summary>
/// `khoemu run`'s snapshot and record/replay options (docs/snapshots.md): <c>--snapshot-at N|kexec --snapshot FILE</c>
/// saves the machine at instruction N (counted from power-on) or at the first KHO handover jump the oracle sees, and
/// the run continues, as after QEMU's savevm; <c>--restore FILE</c> starts from a snapshot instead of power-on;
/// <c>--record FILE</c> logs serial input and the host time the RTC read, <c>--replay FILE</c> feeds them back.
/// </summary>
internal sealed class SnapshotOptions
{
    public string? SnapshotAt { get; private init; }
    public FileInfo? SnapshotFile { get; private init; }
    public FileInfo? RestoreFile { get; private init; }
    public FileInfo? RecordFile { get; private init; }
    public FileInfo? ReplayFile { get; private init; }

    private ulong? _at;
    private bool _atKexec, _restored, _snapshotWritten, _hostTimeRead;
    private SnapshotFile? _restore;
    private SerialInputLog? _record, _replay;
    private CapturingStream? _console;

    /// <summary>The options of `khoemu run`, registered on <paramref name="run"/>; <c>Get</c> reads them back.</summary>
    public sealed class Set
    {
        private readonly Option<string?> _snapshotAt = new("--snapshot-at")
        { Description = "Save a snapshot (to --snapshot FILE) when the machine has retired N instructions since power-on, or at 'kexec': the first KHO handover jump the oracle sees. The run then continues to its normal end." };
        private readonly Option<FileInfo?> _snapshot = new("--snapshot") { Description = "The snapshot file --snapshot-at writes (docs/snapshots.md)." };
        private readonly Option<FileInfo?> _restore = new("--restore")
        { Description = "Start from a snapshot instead of power-on. The machine is rebuilt from the snapshot's own images and options; image options given as well must match them. --max-instructions still counts from power-on." };
        private readonly Option<FileInfo?> _recordOpt = new("--record") { Description = "Log every non-deterministic input (serial input with its virtual time, the host time -rtc base=utc|localtime reads) to FILE." };
        private readonly Option<FileInfo?> _replayOpt = new("--replay") { Description = "Replay a --record log instead of reading stdin and the host clock: the run is the recorded one, bit for bit." };

        public Set(Command run)
        {
            run.Options.Add(_snapshotAt);
            run.Options.Add(_snapshot);
            run.Options.Add(_restore);
            run.Options.Add(_recordOpt);
            run.Options.Add(_replayOpt);
        }

        public SnapshotOptions Get(ParseResult p) => new()
        {
            SnapshotAt = p.GetValue(_snapshotAt), SnapshotFile = p.GetValue(_snapshot), RestoreFile = p.GetValue(_restore),
            RecordFile = p.GetValue(_recordOpt), ReplayFile = p.GetValue(_replayOpt),
        };
    }

    /// <summary>Checks the combination and reads the files named; a problem is a one-line <see cref="FormatException"/>.</summary>
    public void Check(bool noInput)
    {
        if (SnapshotAt is { } at)
        {
            if (at == "kexec") _atKexec = true;
            else if (ulong.TryParse(at, out ulong n)) _at = n;
            else throw new FormatException($"--snapshot-at {at}: expected an instruction count or 'kexec'");
            if (SnapshotFile is null) throw new FormatException("--snapshot-at needs --snapshot FILE");
        }
        else if (SnapshotFile is not null) throw new FormatException("--snapshot needs --snapshot-at N|kexec");
        if (RecordFile is not null && ReplayFile is not null) throw new FormatException("--record and --replay exclude each other");
        if (RecordFile is not null && noInput) throw new FormatException("--record logs serial input; it cannot be combined with --no-input");
        if (RestoreFile is not null)
        {
            try { _restore = Machine.Snapshots.SnapshotFile.Read(RestoreFile.FullName); }
            catch (SnapshotFormatException e) { throw new FormatException($"--restore {RestoreFile}: {e.Message}"); }
        }
        if (ReplayFile is not null) _replay = SerialInputLog.Read(ReplayFile.FullName);
        if (RecordFile is not null) _record = new SerialInputLog();
    }

    /// <summary>The host's time for <c>-rtc base=utc|localtime</c>: recorded, or the recorded value replayed.</summary>
    public DateTime HostUtcNow()
    {
        _hostTimeRead = true;
        if (_replay is not null)
            return _replay.RtcTicks is { } t ? new DateTime(t, DateTimeKind.Utc)
                : throw new FormatException($"--replay {ReplayFile}: the recorded run did not read the host time (-rtc base=utc|localtime)");
        var now = DateTime.UtcNow;
        if (_record is not null) _record.RtcTicks = now.Ticks;
        return now;
    }

    /// <summary>
    /// The configuration to build: the snapshot's when restoring (the user's must then match it, if image options were
    /// given), with the serial streams and record/replay logs of this run.
    /// </summary>
    public MachineConfig Prepare(MachineConfig given, bool imageOptionsGiven)
    {
        var config = given;
        if (_restore is not null)
        {
            MachineConfig saved;
            try { saved = SnapshotConfig.Load(_restore.Find(SnapshotConfig.SectionName) ?? throw new SnapshotFormatException("no config section")); }
            catch (SnapshotFormatException e) { throw new FormatException($"--restore {RestoreFile}: {e.Message}"); }
            if (imageOptionsGiven && SnapshotConfig.Difference(saved, given) is { } diff)
                throw new FormatException($"--restore {RestoreFile}: the options describe another machine: {diff}");
            saved.SerialOutput = given.SerialOutput;
            bool input = PcMachine.SnapshotHasSerialInput(_restore);
            if (input && given.SerialInput is null && _replay is null)
                throw new FormatException($"--restore {RestoreFile}: the snapshot was taken with serial input connected; run it without --no-input");
            saved.SerialInput = input ? given.SerialInput : null;
            config = saved;
        }
        if (_replay is not null)
        {
            if (_replay.ConfigHash != SnapshotConfig.Hash(config))
                throw new FormatException($"--replay {ReplayFile}: the log was recorded on another machine configuration (hash {_replay.ConfigHash:x16}, these options give {SnapshotConfig.Hash(config):x16})");
            if (_replay.RtcTicks is not null && !_hostTimeRead)
                throw new FormatException($"--replay {ReplayFile}: the recorded run read the host time; give the same -rtc option");
            config.SerialInput = null;
            config.SerialInputReplay = _replay;
        }
        if (_record is not null)
        {
            _record.ConfigHash = SnapshotConfig.Hash(config);
            config.SerialInputRecord = _record;
        }
        // The snapshot carries the console so far (a restore ignores it; `khoemu test --from-snapshot` judges with it).
        if (SnapshotAt is not null) config.SerialOutput = _console = new CapturingStream(config.SerialOutput);
        return config;
    }

    /// <summary>Restores the snapshot into the run's first machine; later machines (after a guest reset) boot cold.</summary>
    public void Attach(PcMachine machine)
    {
        if (_restore is not null && !_restored)
        {
            _restored = true;
            try { machine.Restore(_restore); }
            catch (SnapshotFormatException e) { throw new FormatException($"--restore {RestoreFile}: {e.Message}"); }
            if (_at is { } n && n < machine.InstructionCount)
                throw new FormatException($"--snapshot-at {n}: the restored machine is already at instruction {machine.InstructionCount}");
        }
        if (_atKexec && !_snapshotWritten)
            machine.KhoOracle.JumpSeen += _ =>
            {
                if (!_snapshotWritten) machine.StopAtNextBoundary();
            };
    }

    /// <summary>Runs <paramref name="machine"/> for at most <paramref name="remaining"/> instructions of this machine's
    /// life (counted from its power-on), taking the snapshot on the way when asked.</summary>
    /// <exception cref="IOException">The snapshot could not be written.</exception>
    /// <exception cref="InvalidOperationException">The machine cannot be saved at that point.</exception>
    public MachineExit Run(PcMachine machine, ulong remaining)
    {
        ulong Left() => remaining == ulong.MaxValue ? ulong.MaxValue : remaining - Math.Min(remaining, machine.InstructionCount);
        while (true)
        {
            if (_snapshotWritten || (_at is null && !_atKexec)) return machine.Run(Left());
            if (_at is { } n)
            {
                ulong left = Left();
                var exit = machine.Run(Math.Min(left, n - machine.InstructionCount));
                if (machine.InstructionCount != n || exit.Kind != ExitKind.InstructionLimit) return exit;
                Save(machine, $"instruction {n}");
                continue;
            }
            int handovers = machine.KhoOracle.Handovers;
            var e = machine.Run(Left());
            if (e.Kind != ExitKind.Stopped || machine.KhoOracle.Handovers == handovers) return e;
            Save(machine, $"kexec jump {machine.KhoOracle.Handovers} at instruction {machine.InstructionCount}");
        }
    }

    private void Save(PcMachine machine, string reason)
    {
        machine.Config.SerialOutput.Flush();
        var snapshot = machine.TakeSnapshot(reason, _console?.Captured);
        long bytes = snapshot.Write(SnapshotFile!.FullName);
        _snapshotWritten = true;
        Console.Error.WriteLine($"khoemu: snapshot at {reason} written to {SnapshotFile} ({bytes} bytes)");
    }

    /// <summary>The --stats line of a run: a hash of guest RAM at its end, to compare runs (a restored one with a whole one).</summary>
    public static string RamStats(PcMachine machine) => $"khoemu: guest RAM xxh64 {machine.RamHash():x16}";

    /// <summary>After the run: the record log is written, and a snapshot that was asked for but never taken is an error
    /// (returns its one-line message).</summary>
    public string? Finish()
    {
        if (_record is not null && RecordFile is not null) _record.Write(RecordFile.FullName);
        if (SnapshotAt is not null && !_snapshotWritten)
            return $"--snapshot-at {SnapshotAt}: the run ended before that point; no snapshot was written";
        return null;
    }
}
