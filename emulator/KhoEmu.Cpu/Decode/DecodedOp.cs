using Iced.Intel;

namespace KhoEmu.Cpu.Decode;

/// <summary>Where an operand comes from, resolved once at decode time.</summary>
internal enum OperandKind : byte
{
    None,
    Register,
    Memory,
    Immediate,
}

/// <summary>
/// A guest instruction decoded once, with everything the handler needs pre-extracted from Iced's
/// <see cref="Instruction"/>: register indexes, the effective-address recipe, immediates, branch displacement.
/// Branch targets and RIP-relative addresses are stored relative to the next instruction so a block stays valid at
/// any linear address the same physical code is mapped at.
/// </summary>
internal unsafe struct DecodedOp
{
    public delegate*<Cpu, ref DecodedOp, void> Exec;
    public Instruction Insn;

    public byte Length;
    /// <summary>Operand size in bytes of the first operand (1, 2, 4, 8, 16).</summary>
    public byte Size;
    /// <summary>Size in bytes of the second operand (MOVZX, MOVSX and friends).</summary>
    public byte SrcSize;
    public byte Seg;
    public OperandKind K0, K1, K2;
    /// <summary>Register indexes: 0-15 GPR (or XMM), 16-19 AH/CH/DH/BH; 16 also means "none" in address parts.</summary>
    public byte R0, R1, R2;
    public byte Base, Index, Scale;
    public bool RipRelative;
    /// <summary>Address size in bytes (2, 4, 8).</summary>
    public byte AddrSize;
    public ulong AddrMask;
    public long Disp;
    public ulong Imm;
    /// <summary>Second immediate (ENTER) or far-branch selector.</summary>
    public ulong Imm2;
    /// <summary>Near-branch target relative to the next instruction.</summary>
    public long BranchDelta;
    /// <summary>0 none, 1 REP/REPE, 2 REPNE.</summary>
    public byte Rep;
    /// <summary>Bytes moved per stack push/pop (PUSH, POP, CALL, RET, PUSHF, POPF); 0 otherwise.</summary>
    public byte StackSize;
    /// <summary>Mask applied to a new instruction pointer (operand size of near branches).</summary>
    public ulong IpMask;
    public byte Cc;
    /// <summary>x87 last-opcode value (FOP) of an x87 instruction, 0 for others.</summary>
    public ushort Fop;
}
