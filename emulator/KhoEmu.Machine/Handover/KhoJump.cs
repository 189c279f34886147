namespace KhoEmu.Machine.Handover;

/// <summary>
/// One kexec the oracle saw: what was handed over and the blackout around it, in guest instructions (virtual time:
/// one instruction is one nanosecond) and host time. Begin is the reboot(LINUX_REBOOT_CMD_KEXEC) system call, Jump
/// the first instruction of the next kernel (Linux) or the handover report just before the jump (the project's
/// kernel), Init the first system call from ring 3 after the jump (the next kernel's init). 0 = not seen.
/// </summary>
public sealed class KhoJump
{
    public required int Index { get; init; }
    /// <summary>"linux" (found at the next kernel's 64-bit entry) or "khoemu" (reported on port 0x5A0).</summary>
    public required string Kind { get; init; }
    public required KhoHandover Handover { get; init; }
    public ulong BeginInstruction { get; init; }
    public ulong JumpInstruction { get; init; }
    public ulong InitInstruction { get; set; }
    public TimeSpan BeginToJumpWall { get; init; }
    public TimeSpan BeginToInitWall { get; set; }
    /// <summary>Instruction count when the new kernel first read the preserved-memory map's root (Linux); 0 = not yet.</summary>
    public ulong MapReadInstruction { get; set; }
    /// <summary>Host time spent reading and hashing the handover at the jump.</summary>
    public TimeSpan OracleWall { get; set; }
    /// <summary>The byte --kho-inject flipped at this jump, and the owner of its page.</summary>
    public ulong? InjectedAt { get; set; }
    public string? InjectedOwner { get; set; }

    /// <summary>Device DMA writes counted by the oracle at the reboot(KEXEC) call, at the jump and at the next init's
    /// first system call (DMA that kept flowing through the blackout).</summary>
    public long DeviceWritesAtBegin { get; init; }
    public long DeviceWritesAtJump { get; init; }
    public long DeviceWritesAtInit { get; set; }

    public ulong? BlackoutToJump => BeginInstruction != 0 ? JumpInstruction - BeginInstruction : null;
    public ulong? BlackoutToInit => BeginInstruction != 0 && InitInstruction != 0 ? InitInstruction - BeginInstruction : null;
}
