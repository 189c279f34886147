namespace KhoEmu.Core;

/// <summary>Thrown at machine construction when two devices would claim the same address range.</summary>
public sealed class BusConflictException(string message) : Exception(message);
