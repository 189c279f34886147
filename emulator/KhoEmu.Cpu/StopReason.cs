namespace KhoEmu.Cpu;

/// <summary>Why <see cref="Cpu.Run"/> returned.</summary>
public enum StopReason
{
    /// <summary>The instruction budget of this call ran out; the machine can continue.</summary>
    InstructionLimit,
    /// <summary>A device or the host asked the CPU to stop (debug exit, monitor).</summary>
    Requested,
    /// <summary>HLT with interrupts disabled and nothing that could wake the CPU.</summary>
    HaltedForever,
    /// <summary>The processor is halted or waits for a start-up IPI and <see cref="Cpu.YieldOnHalt"/> is set: the
    /// machine runs its other processors.</summary>
    Halted,
    /// <summary>An exception while delivering a double fault.</summary>
    TripleFault,
    /// <summary>An instruction this CPU does not implement (reported, not silently skipped).</summary>
    Unsupported,
}
