namespace KhoEmu.Machine;

/// <summary>How a run ended.</summary>
public enum ExitKind
{
    /// <summary>The guest wrote isa-debug-exit; <see cref="MachineExit.ExitCode"/> follows QEMU's rule.</summary>
    DebugExit,
    InstructionLimit,
    HaltedForever,
    TripleFault,
    Unsupported,
    /// <summary>The host asked the machine to stop (monitor, Ctrl-C).</summary>
    Stopped,
    /// <summary>The guest entered ACPI S5 (soft off) through the PM1a control register.</summary>
    PowerOff,
    /// <summary>The guest reset the machine (port 0xCF9, the keyboard controller, the FADT reset register) under
    /// <c>-no-reboot</c>; without it the machine reboots instead of ending the run.</summary>
    Reset,
}

/// <summary>The end of a run: what happened, the process exit code for it, and a diagnostic for errors.</summary>
public sealed record MachineExit(ExitKind Kind, int ExitCode, string? Diagnostic)
{
    /// <summary>Exit codes for stops other than isa-debug-exit (documented in README.md, "Running kernels").</summary>
    public const int CodeInstructionLimit = 124, CodeHalted = 125, CodeTripleFault = 126, CodeUnsupported = 127,
        CodeStopped = 130, CodePowerOff = 0, CodeReset = 0;
}
