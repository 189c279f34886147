using MemoryPack;

namespace KhoEmu.Core.State;

/// <summary>The virtual clock: the time, the next sequence number, and every armed timer (by owner-given name).</summary>
[MemoryPackable]
public sealed partial record ClockState(ulong Now, ulong Sequence, ArmedTimer[] Timers);

/// <summary>One armed timer: its name, deadline and sequence number (the tie-break among equal deadlines).</summary>
[MemoryPackable]
public readonly partial record struct ArmedTimer(string Name, ulong Deadline, ulong Sequence);
