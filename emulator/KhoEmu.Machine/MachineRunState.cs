using MemoryPack;

namespace KhoEmu.Machine;

/// <summary>
/// What the machine's run loop carries between instructions: the SMP scheduler's position (whose turn it is, how much
/// of its quantum that processor used, whether any processor progressed in this round, the scheduler's clock) and an
/// exit the guest already asked for, and whether serial input was still being polled (a machine restored from such
/// a snapshot needs an input: the terminal or a replay log).
/// </summary>
[MemoryPackable]
public sealed partial record MachineRunState(int Turn, ulong QuantumUsed, bool RoundProgressed, ulong SchedulerNow, int? DebugExitCode,
    ExitKind? ExitRequestKind, string? ExitRequestWhy, bool SerialInputPolling);
