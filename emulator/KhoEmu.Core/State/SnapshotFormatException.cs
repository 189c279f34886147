namespace KhoEmu.Core.State;

/// <summary>
/// A snapshot (or one of its sections) that cannot be loaded: truncated, corrupted, of another format version, or
/// describing a machine other than the one being restored. The message is one line a user can act on.
/// </summary>
public sealed class SnapshotFormatException(string message) : Exception(message);
