using KhoEmu.Core.State;
using KhoEmu.Machine.Snapshots;

namespace KhoEmu.Machine;

/// <summary>
/// Snapshots of the whole machine (docs/snapshots.md): every component's state section, the run loop's, the KHO
/// oracle's, and the touched RAM pages. <see cref="Restore"/> decodes and checks everything before it changes
/// anything, so a refused snapshot leaves the machine as it was.
/// </summary>
public sealed partial class PcMachine : IStateful<MachineRunState>
{
    /// <summary>Written into every snapshot's header.</summary>
    public const string SnapshotProducer = "khoemu";

    /// <summary>An optional section holding the serial console's output up to the snapshot (raw bytes, version 1):
    /// not machine state (a restore ignores it), it lets a scenario judged from a snapshot see its first stage's report.</summary>
    public const string ConsoleSection = "console";

    /// <summary>The machine's state sections, in the order they are saved and applied.</summary>
    public IReadOnlyList<ISnapshotSection> StateSections => _stateSections ??= BuildStateSections();
    private List<ISnapshotSection>? _stateSections;

    private List<ISnapshotSection> BuildStateSections()
    {
        var list = new List<ISnapshotSection>();
        for (int i = 0; i < Cpus.Count; i++)
            list.Add(new StateSection<KhoEmu.Cpu.State.CpuState>($"cpu{i}", Cpus[i], KhoEmu.Cpu.State.CpuState.Version));
        list.Add(new StateSection<MachineRunState>("machine", this));
        list.AddRange(DeviceSections);
        list.Add(new StateSection<KhoOracleState>("kho-oracle", KhoOracle));
        return list;
    }

    /// <summary>This machine as a snapshot header describes it.</summary>
    public SnapshotMachine Describe() => new(Memory.RamSize, (Config.CpuModel ?? KhoEmu.Cpu.CpuModels.Default).Name,
        Config.Smp.Sockets, Config.Smp.Cores, Config.Smp.Threads, [.. Devices.Devices.Select(d => d.Board.Name)], SnapshotConfig.Hash(Config));

    /// <summary>Why a snapshot cannot be taken now, or null.</summary>
    public string? SnapshotObstacle => KhoOracle.SnapshotObstacle;

    /// <summary>The machine's whole state now (call it between runs: <see cref="Run"/> stops at instruction boundaries).</summary>
    /// <exception cref="InvalidOperationException">The state cannot be saved now (<see cref="SnapshotObstacle"/>).</exception>
    public SnapshotFile TakeSnapshot(string reason, byte[]? console = null)
    {
        if (SnapshotObstacle is { } why) throw new InvalidOperationException($"cannot snapshot: {why}");
        var sections = new List<SnapshotSection> { SnapshotConfig.Save(Config) };
        foreach (var s in StateSections) sections.Add(new(s.Name, s.Version, s.Save()));
        sections.AddRange(RamSnapshot.Save(Memory));
        if (console is not null) sections.Add(new(ConsoleSection, 1, console));
        return new SnapshotFile(new SnapshotHeader(SnapshotProducer, reason, InstructionCount, Cpus.Max(c => c.VirtualTime), Describe()), sections);
    }

    /// <summary>
    /// Loads <paramref name="snapshot"/> into this machine, which must have been built from the same configuration
    /// and not run. Every section is checked first (the header's machine, the section list and versions, each
    /// component's decode and validation, the RAM pages); only then is anything applied.
    /// </summary>
    /// <exception cref="SnapshotFormatException">The snapshot does not fit this machine; nothing was changed.</exception>
    public void Restore(SnapshotFile snapshot)
    {
        if (snapshot.Header.Machine.Mismatch(Describe()) is { } mismatch) throw new SnapshotFormatException($"snapshot {mismatch}");
        var config = snapshot.Find(SnapshotConfig.SectionName) ?? throw new SnapshotFormatException("the snapshot has no config section");
        if (SnapshotConfig.Hash(SnapshotConfig.Load(config)) != snapshot.Header.Machine.ConfigHash)
            throw new SnapshotFormatException("the config section does not match the header's configuration hash");

        var known = StateSections.ToDictionary(s => s.Name);
        foreach (var s in snapshot.Sections)
            if (!known.ContainsKey(s.Name) && s.Name is not (SnapshotConfig.SectionName or ConsoleSection) && !s.Name.StartsWith(RamSnapshot.Prefix, StringComparison.Ordinal))
                throw new SnapshotFormatException($"section {s.Name} is unknown to this khoemu");
        var decoded = new List<(ISnapshotSection Section, object State)>();
        foreach (var section in StateSections)
        {
            var stored = snapshot.Find(section.Name) ?? throw new SnapshotFormatException($"the snapshot has no section {section.Name}");
            if (stored.Version != section.Version)
                throw new SnapshotFormatException($"section {section.Name}: version {stored.Version}; this khoemu reads version {section.Version}");
            decoded.Add((section, section.Decode(stored.Data)));
        }
        var ram = snapshot.Sections.Where(s => s.Name.StartsWith(RamSnapshot.Prefix, StringComparison.Ordinal)).ToList();
        RamSnapshot.Validate(ram, Memory);

        // Everything decoded and checked: from here on nothing can fail on the snapshot's account.
        RamSnapshot.Apply(ram, Memory);
        foreach (var (section, state) in decoded) section.Apply(state);
        foreach (var cpu in Cpus) cpu.InvalidateDecodedCode();
        _serialInput?.Resynchronize();
    }

    /// <summary>Makes <see cref="Run"/> return (<see cref="ExitKind.Stopped"/>) at the next instruction boundary; a later
    /// <see cref="Run"/> continues as if it had not stopped.</summary>
    public void StopAtNextBoundary() => StopAll();

    /// <summary>A hash of all of guest RAM (zero pages excepted), to compare two runs.</summary>
    public ulong RamHash() => RamSnapshot.Hash(Memory);

    public MachineRunState SaveState() => new(_turn, _quantumUsed, _roundProgressed, _now, _debugExitCode,
        _exitRequest?.Kind, _exitRequest?.Why, _serialInput?.Polling ?? false);

    /// <summary>Whether <paramref name="snapshot"/> was taken while serial input was polled (false when unreadable).</summary>
    public static bool SnapshotHasSerialInput(SnapshotFile snapshot)
    {
        if (snapshot.Find("machine") is not { } s) return false;
        try { return MemoryPack.MemoryPackSerializer.Deserialize<MachineRunState>(s.Data)?.SerialInputPolling ?? false; }
        catch (MemoryPack.MemoryPackSerializationException) { return false; }
    }

    public void ValidateState(MachineRunState state)
    {
        if (state.Turn < 0 || state.Turn >= Cpus.Count) throw new SnapshotFormatException($"machine: scheduler turn {state.Turn} of {Cpus.Count} processors");
        if (state.QuantumUsed > Quantum) throw new SnapshotFormatException($"machine: {state.QuantumUsed} instructions into a {Quantum}-instruction quantum");
        if (state.ExitRequestKind is { } k && !Enum.IsDefined(k)) throw new SnapshotFormatException($"machine: unknown exit kind {(int)k}");
        if (state.SerialInputPolling && _serialInput is null)
            throw new SnapshotFormatException("the snapshot was taken with serial input connected; the machine has none");
    }

    public void LoadState(MachineRunState state)
    {
        (_turn, _quantumUsed, _roundProgressed, _now) = (state.Turn, state.QuantumUsed, state.RoundProgressed, state.SchedulerNow);
        _current = state.Turn;
        _debugExitCode = state.DebugExitCode;
        _exitRequest = state.ExitRequestKind is { } kind ? (kind, state.ExitRequestWhy ?? "") : null;
    }
}
