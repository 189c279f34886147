using KhoEmu.Core;

namespace KhoEmu.Cpu.Tests;

/// <summary>
/// An interrupt controller for snapshot tests: one vector, pending from instruction <paramref name="from"/> on (as the
/// CPU counts them) until it is acknowledged once. Its whole state is <see cref="Acknowledged"/>, so a copy with the
/// same value is a restored controller.
/// </summary>
public sealed class ScheduledInterruptSink(int vector, ulong from, Func<ulong> now) : IInterruptSink
{
    public bool Acknowledged { get; set; }

    public bool HasPendingInterrupt => !Acknowledged && now() >= from;

    public int AcknowledgeInterrupt()
    {
        if (!HasPendingInterrupt) return -1;
        Acknowledged = true;
        return vector;
    }
}
