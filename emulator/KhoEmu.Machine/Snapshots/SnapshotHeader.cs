namespace KhoEmu.Machine.Snapshots;

/// <summary>
/// The header of a snapshot file: why and when it was taken, and the machine it was taken on. A snapshot is only
/// restored into a machine whose <see cref="SnapshotMachine"/> description is equal (docs/snapshots.md).
/// </summary>
public sealed record SnapshotHeader(string Producer, string Reason, ulong InstructionCount, ulong VirtualTime, SnapshotMachine Machine);
