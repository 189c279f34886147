using MemoryPack;

namespace KhoEmu.Machine;

/// <summary>
/// What the KHO oracle knows that decides its verdict on the rest of a run: the handovers counted so far, the
/// preserved blocks still to be restored with their hashes at the jump, the blocks restored, the pages DMA wrote,
/// the violations found. The jump reports (<see cref="KhoOracle.Jumps"/>, with their wall times) and the owner names
/// of the last handover are not part of it: a restored oracle reports violations without the owner's name.
/// </summary>
[MemoryPackable]
public sealed partial record KhoOracleState
{
    public int Handovers { get; init; }
    public long PreservedBlocks { get; init; }
    public long PreservedBytes { get; init; }
    public long RestoredBlocks { get; init; }
    public long DeviceWrittenBlocks { get; init; }
    public long DmaWritesChecked { get; init; }
    public long TouchedPages { get; init; }
    public bool AfterHandover { get; init; }
    public bool LinuxArmed { get; init; }
    /// <summary>Every unreadable handover so far, prefixed with its jump.</summary>
    public string[] HandoverProblems { get; init; } = [];
    /// <summary>Blocks earlier handovers left unrestored (the "left reserved" total counts every handover).</summary>
    public long UnrestoredEarlier { get; init; }
    public long DeviceWrites { get; init; }
    public long DeviceWritesAtReboot { get; init; }
    /// <summary>Pages a device wrote by DMA before the jump (the byte-flip injection avoids them).</summary>
    public ulong[] DeviceWrittenBeforeJump { get; init; } = [];
    public ulong BlackoutBeginInstruction { get; init; }
    public ulong BlackoutInstructions { get; init; }
    public ulong RebootInstruction { get; init; }
    public ulong InjectedPage { get; init; }
    /// <summary>Preserved (phys, order) blocks not restored yet and their hashes at the jump.</summary>
    public (ulong Phys, int Order, ulong Hash)[] Pending { get; init; } = [];
    public (ulong Phys, int Order)[] Restored { get; init; } = [];
    public ulong[] PreservedPages { get; init; } = [];
    public ulong[] DmaPages { get; init; } = [];
    public (ushort Source, ulong Page)[] UnmappedWrites { get; init; } = [];
    public string[] Violations { get; init; } = [];

    public bool Equals(KhoOracleState? o) => o is not null && Handovers == o.Handovers && PreservedBlocks == o.PreservedBlocks
        && PreservedBytes == o.PreservedBytes && RestoredBlocks == o.RestoredBlocks && DeviceWrittenBlocks == o.DeviceWrittenBlocks
        && DmaWritesChecked == o.DmaWritesChecked && TouchedPages == o.TouchedPages && AfterHandover == o.AfterHandover
        && LinuxArmed == o.LinuxArmed && HandoverProblems.SequenceEqual(o.HandoverProblems) && UnrestoredEarlier == o.UnrestoredEarlier
        && DeviceWrites == o.DeviceWrites && DeviceWritesAtReboot == o.DeviceWritesAtReboot
        && DeviceWrittenBeforeJump.SequenceEqual(o.DeviceWrittenBeforeJump) && BlackoutBeginInstruction == o.BlackoutBeginInstruction
        && BlackoutInstructions == o.BlackoutInstructions && RebootInstruction == o.RebootInstruction && InjectedPage == o.InjectedPage
        && Pending.SequenceEqual(o.Pending) && Restored.SequenceEqual(o.Restored) && PreservedPages.SequenceEqual(o.PreservedPages)
        && DmaPages.SequenceEqual(o.DmaPages) && UnmappedWrites.SequenceEqual(o.UnmappedWrites) && Violations.SequenceEqual(o.Violations);

    public override int GetHashCode() => HashCode.Combine(Handovers, PreservedBlocks, RestoredBlocks, Violations.Length);
}
