using KhoEmu.Core;

namespace KhoEmu.Cpu.Tests;

/// <summary>An interrupt controller for tests: one vector, pending while <c>pending()</c> says so, acknowledged once.</summary>
public sealed class TestInterruptSink(int vector, Func<bool> pending) : IInterruptSink
{
    public int Acknowledged { get; private set; }

    public bool HasPendingInterrupt => Acknowledged == 0 && pending();

    public int AcknowledgeInterrupt()
    {
        if (!HasPendingInterrupt) return -1;
        Acknowledged++;
        return vector;
    }
}
