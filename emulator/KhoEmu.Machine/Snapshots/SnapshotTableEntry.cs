namespace KhoEmu.Machine.Snapshots;

/// <summary>A row of a snapshot's section table: how a section is stored (for <c>khoemu snapshot info</c>).</summary>
public sealed record SnapshotTableEntry(string Name, ushort Version, SnapshotCodec Codec, ulong RawLength, ulong StoredLength);
