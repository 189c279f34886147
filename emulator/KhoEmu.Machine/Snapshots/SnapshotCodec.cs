namespace KhoEmu.Machine.Snapshots;

/// <summary>How a section's bytes are stored (docs/snapshots.md, "Section table").</summary>
public enum SnapshotCodec : byte
{
    /// <summary>As they are (used when compression would not shrink them).</summary>
    Stored = 0,
    /// <summary>One LZ4 block (K4os.Compression.LZ4's <c>LZ4Codec</c>, fast level).</summary>
    Lz4 = 1,
}
