using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu.Semantics;

/// <summary>Control transfer: JMP, Jcc, CALL, RET, LOOP, JrCXZ, far transfers, INT, IRET, SYSCALL, SYSRET, HLT.</summary>
internal static class Flow
{
    public static void JmpRel(Cpu c, ref DecodedOp op) => c.Rip = (c.Rip + (ulong)op.BranchDelta) & op.IpMask;

    public static void Jcc(Cpu c, ref DecodedOp op)
    {
        if (c.Condition(op.Cc)) c.Rip = (c.Rip + (ulong)op.BranchDelta) & op.IpMask;
    }

    public static void JmpIndirect(Cpu c, ref DecodedOp op)
    {
        ulong target = c.Load0(ref op);
        if (!c.Faulted) c.Rip = target;
    }

    public static void CallRel(Cpu c, ref DecodedOp op)
    {
        c.Push(c.Rip, op.StackSize);
        if (!c.Faulted) c.Rip = (c.Rip + (ulong)op.BranchDelta) & op.IpMask;
    }

    public static void CallIndirect(Cpu c, ref DecodedOp op)
    {
        ulong target = c.Load0(ref op);
        if (c.Faulted) return;
        c.Push(c.Rip, op.StackSize);
        if (!c.Faulted) c.Rip = target;
    }

    public static void Ret(Cpu c, ref DecodedOp op)
    {
        ulong target = c.Pop(op.StackSize);
        if (c.Faulted) return;
        if (op.K0 == OperandKind.Immediate) c.AdjustStack((long)(op.Imm & 0xFFFF));
        c.Rip = target;
    }

    /// <summary>LOOP, LOOPE, LOOPNE: count in CX/ECX/RCX per address size, no flags changed.</summary>
    public static void Loop(Cpu c, ref DecodedOp op)
    {
        int s = op.AddrSize;
        ulong count = c.GetReg(Cpu.RCX, s) - 1;
        c.SetReg(Cpu.RCX, s, count);
        bool take = (count & op.AddrMask) != 0 && op.Insn.Mnemonic switch
        {
            Iced.Intel.Mnemonic.Loope => c.ZF,
            Iced.Intel.Mnemonic.Loopne => !c.ZF,
            _ => true,
        };
        if (take) c.Rip = (c.Rip + (ulong)op.BranchDelta) & op.IpMask;
    }

    public static void Jrcxz(Cpu c, ref DecodedOp op)
    {
        if (c.GetReg(Cpu.RCX, op.AddrSize) == 0) c.Rip = (c.Rip + (ulong)op.BranchDelta) & op.IpMask;
    }

    public static void JmpFar(Cpu c, ref DecodedOp op)
    {
        if (!ReadFarPointer(c, ref op, out ushort sel, out ulong offset)) return;
        c.FarTransfer(sel, offset, SegReg.CS);
    }

    public static void CallFar(Cpu c, ref DecodedOp op)
    {
        if (!ReadFarPointer(c, ref op, out ushort sel, out ulong offset)) return;
        int s = op.Size == 0 || op.K0 == OperandKind.Immediate ? (op.Insn.CodeSize == Iced.Intel.CodeSize.Code16 ? 2 : 4) : op.Size - 2;
        if (op.Insn.Code.ToString().Contains("16")) s = 2;
        ulong savedRsp = c.Gpr[Cpu.RSP];
        c.Push(c.Seg[SegReg.CS].Selector, s);
        c.Push(c.Rip, s);
        if (c.Faulted) { c.Gpr[Cpu.RSP] = savedRsp; return; }
        c.FarTransfer(sel, offset, SegReg.CS);
        if (c.Faulted) c.Gpr[Cpu.RSP] = savedRsp;
    }

    /// <summary>Reads ptr16:16/32 from the instruction or m16:16/32/64 from memory.</summary>
    private static bool ReadFarPointer(Cpu c, ref DecodedOp op, out ushort sel, out ulong offset)
    {
        if (op.K0 == OperandKind.Immediate)
        {
            sel = (ushort)op.Imm2;
            offset = op.Imm;
            return true;
        }
        int offSize = op.Insn.MemorySize switch
        {
            Iced.Intel.MemorySize.SegPtr16 => 2,
            Iced.Intel.MemorySize.SegPtr64 => 8,
            _ => 4,
        };
        ulong ea = c.Ea(ref op);
        offset = c.Read(op.Seg, ea, offSize);
        sel = (ushort)c.Read(op.Seg, (ea + (ulong)offSize) & op.AddrMask, 2);
        return !c.Faulted;
    }

    public static void RetFar(Cpu c, ref DecodedOp op)
    {
        int s = op.StackSize;
        ulong offset = c.PeekStack(s);
        ushort sel = (ushort)c.PeekStack(s, (ulong)s);
        if (c.Faulted) return;
        ulong savedRsp = c.Gpr[Cpu.RSP];
        int cpl = c.Cpl;
        c.AdjustStack(2 * s);
        if (c.Mode != CpuMode.Real16 && (sel & 3) > cpl)
        {
            // Return to an outer privilege level: SS:rSP follow on the stack.
            if (op.K0 == OperandKind.Immediate) c.AdjustStack((long)(op.Imm & 0xFFFF));
            ulong rsp = c.PeekStack(s);
            ushort ss = (ushort)c.PeekStack(s, (ulong)s);
            if (c.Faulted) { c.Gpr[Cpu.RSP] = savedRsp; return; }
            c.FarTransfer(sel, offset, SegReg.CS);
            if (c.Faulted) { c.Gpr[Cpu.RSP] = savedRsp; return; }
            c.LoadSegmentRegister(SegReg.SS, ss);
            c.Gpr[Cpu.RSP] = rsp;
        }
        else
        {
            c.FarTransfer(sel, offset, SegReg.CS);
            if (c.Faulted) { c.Gpr[Cpu.RSP] = savedRsp; return; }
        }
        if (op.K0 == OperandKind.Immediate) c.AdjustStack((long)(op.Imm & 0xFFFF));
    }

    public static void Int(Cpu c, ref DecodedOp op) => c.SoftwareInterrupt((int)(op.Imm & 0xFF));
    public static void Int3(Cpu c, ref DecodedOp op) => c.SoftwareInterrupt(Vector.BP);

    /// <summary>INT1/ICEBP (F1): #DB as a trap through the IDT without the gate-DPL check INT n has, and without
    /// touching DR6 (QEMU's helper_icebp does the same).</summary>
    public static void Int1(Cpu c, ref DecodedOp op) => c.SoftwareInterrupt(Vector.DB, EventKind.PrivilegedSoftware);

    public static void Into(Cpu c, ref DecodedOp op)
    {
        if (c.OF) c.SoftwareInterrupt(Vector.OF);
    }

    public static void Iret(Cpu c, ref DecodedOp op) => c.InterruptReturn(op.Insn.Mnemonic switch
    {
        Iced.Intel.Mnemonic.Iretq => 8,
        Iced.Intel.Mnemonic.Iretd => 4,
        _ => 2,
    });

    public static void Hlt(Cpu c, ref DecodedOp op)
    {
        if (c.Cpl != 0) { c.RaiseFault(Vector.GP, 0); return; }
        c.Halt();
    }

    public static void Syscall(Cpu c, ref DecodedOp op) => c.Syscall();
    public static void Sysret(Cpu c, ref DecodedOp op) => c.Sysret(op.Insn.Code == Iced.Intel.Code.Sysretq);

    public static void Ud(Cpu c, ref DecodedOp op) => c.RaiseFault(Vector.UD);
}
