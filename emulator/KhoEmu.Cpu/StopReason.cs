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
    /// <summary>An exception while delivering a double fault.</summary>
    TripleFault,
    /// <summary>An instruction this CPU does not implement (reported, not silently skipped).</summary>
    Unsupported,
}
