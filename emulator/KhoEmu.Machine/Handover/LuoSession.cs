namespace KhoEmu.Machine.Handover;

/// <summary>A LUO session as serialized at the jump: its name and its files.</summary>
public sealed record LuoSession(string Name, IReadOnlyList<LuoFile> Files);
