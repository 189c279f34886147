using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu.Semantics;

/// <summary>PUSH, POP, PUSHF, POPF, PUSHA, POPA, ENTER, LEAVE.</summary>
internal static class Stack
{
    public static void PushReg(Cpu c, ref DecodedOp op) => c.Push(c.GetReg(op.R0, op.StackSize), op.StackSize);

    public static void Push(Cpu c, ref DecodedOp op)
    {
        ulong v = op.K0 switch
        {
            OperandKind.Register => c.GetReg(op.R0, op.StackSize),
            OperandKind.Immediate => op.Imm,
            _ => c.Read(op.Seg, c.Ea(ref op), op.StackSize),
        };
        if (!c.Faulted) c.Push(v, op.StackSize);
    }

    public static void PopReg(Cpu c, ref DecodedOp op)
    {
        ulong v = c.Pop(op.StackSize);
        if (!c.Faulted) c.SetReg(op.R0, op.StackSize, v);
    }

    public static void Pop(Cpu c, ref DecodedOp op)
    {
        if (op.K0 == OperandKind.Register)
        {
            PopReg(c, ref op);
            return;
        }
        // POP to memory computes the address after incrementing RSP (SDM: POP).
        ulong v = c.PeekStack(op.StackSize);
        if (c.Faulted) return;
        ulong rsp = c.Gpr[Cpu.RSP];
        c.AdjustStack(op.StackSize);
        c.Write(op.Seg, c.Ea(ref op), op.StackSize, v);
        if (c.Faulted) c.Gpr[Cpu.RSP] = rsp;
    }

    public static void Pushf(Cpu c, ref DecodedOp op) =>
        c.Push(c.GetRflags() & ~(Rflags.RF | Rflags.VM), op.StackSize);

    public static void Popf(Cpu c, ref DecodedOp op)
    {
        ulong v = c.Pop(op.StackSize);
        if (c.Faulted) return;
        c.WriteFlagsFromStack(v, op.StackSize);
    }

    public static void Pusha(Cpu c, ref DecodedOp op)
    {
        int s = op.Size;
        ulong sp = c.GetReg(Cpu.RSP, s);
        if (!c.ProbeWrite(c.Linear(SegReg.SS, (c.Gpr[Cpu.RSP] - (ulong)(8 * s)) & (c.StackWidth == 4 ? 0xFFFF_FFFFUL : 0xFFFFUL)), 8 * s)) return;
        for (int r = 0; r < 8; r++) c.Push(r == Cpu.RSP ? sp : c.GetReg(r, s), s);
    }

    public static void Popa(Cpu c, ref DecodedOp op)
    {
        int s = op.Size;
        var values = new ulong[8];
        for (int r = 7; r >= 0; r--) values[r] = c.PeekStack(s, (ulong)((7 - r) * s));
        if (c.Faulted) return;
        for (int r = 0; r < 8; r++) if (r != Cpu.RSP) c.SetReg(r, s, values[r]);
        c.AdjustStack(8 * s);
    }

    /// <summary>LEAVE (SDM vol. 2A): rSP = rBP at the stack's address size, then POP rBP at the operand size —
    /// C9 is Leave_w/d/q by the operand size (66 C9 in 16-bit code pops EBP, in 32/64-bit code BP).</summary>
    public static void Leave(Cpu c, ref DecodedOp op)
    {
        int s = op.Insn.Code switch
        {
            Iced.Intel.Code.Leavew => 2,
            Iced.Intel.Code.Leaved => 4,
            _ => 8,
        };
        ulong saved = c.Gpr[Cpu.RSP];
        int sw = c.StackWidth;
        c.SetReg(Cpu.RSP, sw, c.GetReg(Cpu.RBP, sw));
        ulong v = c.Pop(s);
        if (c.Faulted) { c.Gpr[Cpu.RSP] = saved; return; }
        c.SetReg(Cpu.RBP, s, v);
    }

    public static void Enter(Cpu c, ref DecodedOp op)
    {
        int s = op.StackSize == 0 ? c.StackWidth : op.StackSize;
        ulong size = op.Imm & 0xFFFF;
        int level = (int)(op.Imm2 & 31);
        ulong savedRsp = c.Gpr[Cpu.RSP], savedRbp = c.Gpr[Cpu.RBP];
        c.Push(c.GetReg(Cpu.RBP, s), s);
        ulong frame = c.GetReg(Cpu.RSP, c.StackWidth);
        ulong rbp = c.GetReg(Cpu.RBP, c.StackWidth);
        for (int i = 1; i < level && !c.Faulted; i++)
        {
            rbp -= (ulong)s;
            ulong v = c.Read(SegReg.SS, rbp, s);
            if (!c.Faulted) c.Push(v, s);
        }
        if (level > 0 && !c.Faulted) c.Push(frame, s);
        if (c.Faulted) { c.Gpr[Cpu.RSP] = savedRsp; c.Gpr[Cpu.RBP] = savedRbp; return; }
        c.SetReg(Cpu.RBP, c.StackWidth == 8 ? 8 : s, frame);
        c.AdjustStack(-(long)size);
    }
}
