using KhoEmu.Core.State;

namespace KhoEmu.Machine;

/// <summary>The oracle's state as a value (<see cref="KhoOracleState"/>), so a snapshot taken after a handover was
/// read still checks the second stage.</summary>
public sealed unsafe partial class KhoOracle : IStateful<KhoOracleState>
{
    /// <summary>Why the oracle's state cannot be saved now, or null. While it watches a Linux handover (a
    /// <see cref="Memory.PageWatch"/> over every preserved page, rebuilt from the handover's parsed metadata) it cannot
    /// yet be saved; the project's own handover (the port protocol) always can.</summary>
    public string? SnapshotObstacle => _linux is not null
        ? "the KHO oracle is watching a Linux handover's preserved pages; snapshots after a Linux kexec jump are not supported yet"
        : null;

    public KhoOracleState SaveState() => new()
    {
        Handovers = Handovers, PreservedBlocks = PreservedBlocks, PreservedBytes = PreservedBytes, RestoredBlocks = RestoredBlocks,
        DeviceWrittenBlocks = DeviceWrittenBlocks, DmaWritesChecked = DmaWritesChecked, TouchedPages = TouchedPages,
        AfterHandover = _afterHandover, LinuxArmed = _linuxArmed, HandoverProblems = [.. _handoverProblems],
        UnrestoredEarlier = _unrestoredEarlier, DeviceWrites = DeviceWrites, DeviceWritesAtReboot = _deviceWritesAtReboot,
        DeviceWrittenBeforeJump = [.. _deviceWrittenBeforeJump.Order()],
        BlackoutBeginInstruction = BlackoutBeginInstruction, BlackoutInstructions = BlackoutInstructions,
        RebootInstruction = _rebootInstruction, InjectedPage = _injectedPage,
        Pending = [.. _pending.Select(p => (p.Key.Phys, p.Key.Order, p.Value)).Order()],
        Restored = [.. _restored.Order()],
        PreservedPages = [.. _preservedPages.Order()],
        DmaPages = [.. _dmaPages.Order()],
        UnmappedWrites = [.. _unmappedWrites.Order()],
        Violations = [.. _violations],
    };

    public void ValidateState(KhoOracleState state)
    {
        if (state.HandoverProblems is null || state.DeviceWrittenBeforeJump is null || state.Pending is null || state.Restored is null || state.PreservedPages is null || state.DmaPages is null
            || state.UnmappedWrites is null || state.Violations is null)
            throw new SnapshotFormatException("kho-oracle: a list is missing");
        if (state.Handovers < 0 || state.Pending.Any(p => p.Order is < 0 or > 40) || state.Restored.Any(p => p.Order is < 0 or > 40))
            throw new SnapshotFormatException("kho-oracle: a block order or count is out of range");
        if (state.Pending.Select(p => (p.Phys, p.Order)).Distinct().Count() != state.Pending.Length)
            throw new SnapshotFormatException("kho-oracle: a pending block is listed twice");
    }

    public void LoadState(KhoOracleState s)
    {
        StopWatching();
        Handovers = s.Handovers;
        PreservedBlocks = s.PreservedBlocks;
        PreservedBytes = s.PreservedBytes;
        RestoredBlocks = s.RestoredBlocks;
        DeviceWrittenBlocks = s.DeviceWrittenBlocks;
        DmaWritesChecked = s.DmaWritesChecked;
        TouchedPages = s.TouchedPages;
        _afterHandover = s.AfterHandover;
        _linuxArmed = s.LinuxArmed;
        _handoverProblems.Clear();
        _handoverProblems.AddRange(s.HandoverProblems);
        _unrestoredEarlier = s.UnrestoredEarlier;
        DeviceWrites = s.DeviceWrites;
        _deviceWritesAtReboot = s.DeviceWritesAtReboot;
        _deviceWrittenBeforeJump.Clear();
        _deviceWrittenBeforeJump.UnionWith(s.DeviceWrittenBeforeJump);
        BlackoutBeginInstruction = s.BlackoutBeginInstruction;
        BlackoutInstructions = s.BlackoutInstructions;
        _rebootInstruction = s.RebootInstruction;
        _injectedPage = s.InjectedPage;
        _pending.Clear();
        foreach (var (phys, order, hash) in s.Pending) _pending[(phys, order)] = hash;
        _restored.Clear();
        _restored.UnionWith(s.Restored);
        _preservedPages.Clear();
        _preservedPages.UnionWith(s.PreservedPages);
        _dmaPages.Clear();
        _dmaPages.UnionWith(s.DmaPages);
        _unmappedWrites.Clear();
        _unmappedWrites.UnionWith(s.UnmappedWrites);
        _violations.Clear();
        _violations.AddRange(s.Violations);
        _lastHandover = null;
        _openJump = null;
    }
}
