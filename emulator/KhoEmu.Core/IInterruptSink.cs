namespace KhoEmu.Core;

/// <summary>Where interrupt controllers deliver a vector to the CPU.</summary>
public interface IInterruptSink
{
    /// <summary>True when an external interrupt is waiting to be accepted.</summary>
    bool HasPendingInterrupt { get; }

    /// <summary>The CPU accepts the highest-priority pending vector (INTA cycle). Returns -1 if none.</summary>
    int AcknowledgeInterrupt();

    /// <summary>True when a non-maskable interrupt is waiting (not masked by RFLAGS.IF).</summary>
    bool HasPendingNmi => false;

    /// <summary>The CPU accepts the pending NMI; false if there was none.</summary>
    bool AcknowledgeNmi() => false;
}

/// <summary>An interrupt request line (ISA IRQ or PCI INTx) that a device raises and lowers.</summary>
public interface IIrqLine
{
    void Set(bool level);
}
