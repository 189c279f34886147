namespace KhoEmu.Machine.Handover;

/// <summary>A file of a LUO session: its handler's compatible, the user's token, the handler's data handle, and for
/// memfds the file size and the data pages (physical page numbers in file order) the handler preserved.</summary>
public sealed record LuoFile(string Compatible, ulong Token, ulong Data)
{
    public ulong? Size { get; init; }
    public IReadOnlyList<ulong> DataPages { get; init; } = [];
}
