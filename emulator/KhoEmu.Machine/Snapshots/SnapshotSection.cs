namespace KhoEmu.Machine.Snapshots;

/// <summary>One named section of a snapshot file as stored: its name, its encoding version and its (uncompressed) bytes.</summary>
public sealed record SnapshotSection(string Name, ushort Version, byte[] Data);
