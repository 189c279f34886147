using System.Buffers.Binary;
using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.Flags;

namespace KhoEmu.Cpu.Semantics;

/// <summary>Data movement: MOV and its extending forms, LEA, XCHG, CMOVcc, SETcc, BSWAP, conversions, atomics.</summary>
internal static class Mov
{
    public static void RegReg(Cpu c, ref DecodedOp op) => c.SetReg(op.R0, op.Size, c.GetReg(op.R1, op.Size));
    public static void RegImm(Cpu c, ref DecodedOp op) => c.SetReg(op.R0, op.Size, op.Imm);

    public static void RegMem(Cpu c, ref DecodedOp op)
    {
        ulong v = c.Read(op.Seg, c.Ea(ref op), op.Size);
        if (!c.Faulted) c.SetReg(op.R0, op.Size, v);
    }

    public static void MemReg(Cpu c, ref DecodedOp op) => c.Write(op.Seg, c.Ea(ref op), op.Size, c.GetReg(op.R1, op.Size));
    public static void MemImm(Cpu c, ref DecodedOp op) => c.Write(op.Seg, c.Ea(ref op), op.Size, op.Imm);

    public static void Movzx(Cpu c, ref DecodedOp op)
    {
        ulong v = c.Load1(ref op);
        if (!c.Faulted) c.SetReg(op.R0, op.Size, v);
    }

    public static void Movsx(Cpu c, ref DecodedOp op)
    {
        ulong v = c.Load1(ref op);
        if (c.Faulted) return;
        v = op.SrcSize switch { 1 => (ulong)(sbyte)v, 2 => (ulong)(short)v, 4 => (ulong)(int)v, _ => v };
        c.SetReg(op.R0, op.Size, v);
    }

    public static void Lea(Cpu c, ref DecodedOp op) => c.SetReg(op.R0, op.Size, c.Ea(ref op));

    public static void Xchg(Cpu c, ref DecodedOp op)
    {
        int s = op.Size;
        if (op.K0 == OperandKind.Register && op.K1 == OperandKind.Register)
        {
            ulong a = c.GetReg(op.R0, s), b = c.GetReg(op.R1, s);
            c.SetReg(op.R0, s, b);
            c.SetReg(op.R1, s, a);
            return;
        }
        byte reg = op.K0 == OperandKind.Register ? op.R0 : op.R1;
        ulong la = c.OperandLinear(ref op);
        ulong m = c.ReadLinear(la, s);
        if (c.Faulted || !c.ProbeWrite(la, s)) return;
        c.WriteLinear(la, s, c.GetReg(reg, s));
        c.SetReg(reg, s, m);
    }

    public static void Cmovcc(Cpu c, ref DecodedOp op)
    {
        ulong v = c.Load1(ref op);
        if (c.Faulted) return;
        if (c.Condition(op.Cc)) c.SetReg(op.R0, op.Size, v);
        else if (op.Size == 4) c.SetReg(op.R0, 4, c.GetReg(op.R0, 4)); // 32-bit CMOV always zero-extends
    }

    public static void Setcc(Cpu c, ref DecodedOp op) => c.Store0(ref op, c.Condition(op.Cc) ? 1UL : 0);

    public static void Bswap(Cpu c, ref DecodedOp op)
    {
        ulong v = c.GetReg(op.R0, op.Size);
        c.SetReg(op.R0, op.Size, op.Size == 8 ? BinaryPrimitives.ReverseEndianness(v)
            : op.Size == 4 ? BinaryPrimitives.ReverseEndianness((uint)v) : 0); // 16-bit BSWAP is undefined; zero as hardware does
    }

    /// <summary>CBW / CWDE / CDQE: sign-extend the low half of the accumulator into all of it.</summary>
    public static void SignExtendAccumulator(Cpu c, ref DecodedOp op)
    {
        int s = op.Size;
        ulong a = c.GetReg(Cpu.RAX, s / 2);
        ulong v = s switch { 2 => (ulong)(sbyte)a, 4 => (ulong)(short)a, _ => (ulong)(int)a };
        c.SetReg(Cpu.RAX, s, v);
    }

    /// <summary>CWD / CDQ / CQO: fill rDX with the accumulator's sign.</summary>
    public static void SignFillDx(Cpu c, ref DecodedOp op)
    {
        int s = op.Size;
        ulong sign = (c.GetReg(Cpu.RAX, s) >> (s * 8 - 1)) & 1;
        c.SetReg(Cpu.RDX, s, sign != 0 ? ulong.MaxValue : 0);
    }

    public static void Nop(Cpu c, ref DecodedOp op) { }

    public static void Xlat(Cpu c, ref DecodedOp op)
    {
        ulong ea = (c.Gpr[Cpu.RBX] + (c.Gpr[Cpu.RAX] & 0xFF)) & op.AddrMask;
        ulong v = c.Read(op.Seg, ea, 1);
        if (!c.Faulted) c.SetReg(Cpu.RAX, 1, v);
    }

    public static void Xadd(Cpu c, ref DecodedOp op)
    {
        int s = op.Size;
        ulong b = c.GetReg(op.R1, s);
        if (op.K0 == OperandKind.Register)
        {
            ulong a = c.GetReg(op.R0, s);
            ulong r = AddOp.Compute(c, a, b, s);
            c.SetReg(op.R1, s, a);
            c.SetReg(op.R0, s, r);
            return;
        }
        ulong la = c.OperandLinear(ref op);
        ulong m = c.ReadLinear(la, s);
        if (c.Faulted || !c.ProbeWrite(la, s)) return;
        c.WriteLinear(la, s, AddOp.Compute(c, m, b, s));
        c.SetReg(op.R1, s, m);
    }

    public static void Cmpxchg(Cpu c, ref DecodedOp op)
    {
        int s = op.Size;
        ulong acc = c.GetReg(Cpu.RAX, s);
        if (op.K0 == OperandKind.Register)
        {
            ulong d = c.GetReg(op.R0, s);
            c.SetLazy(FlagOp.Sub, s, acc, d, acc - d);
            if (MaskEq(acc, d, s)) c.SetReg(op.R0, s, c.GetReg(op.R1, s));
            else c.SetReg(Cpu.RAX, s, d);
            return;
        }
        ulong la = c.OperandLinear(ref op);
        ulong m = c.ReadLinear(la, s);
        if (c.Faulted || !c.ProbeWrite(la, s)) return;
        c.SetLazy(FlagOp.Sub, s, acc, m, acc - m);
        if (MaskEq(acc, m, s)) c.WriteLinear(la, s, c.GetReg(op.R1, s));
        else
        {
            c.WriteLinear(la, s, m); // the destination is always written (SDM: locked cycle)
            c.SetReg(Cpu.RAX, s, m);
        }
    }

    /// <summary>CMPXCHG8B / CMPXCHG16B.</summary>
    public static void CmpxchgDouble(Cpu c, ref DecodedOp op)
    {
        int half = op.Size == 16 ? 8 : 4;
        ulong la = c.OperandLinear(ref op);
        if (half == 8 && (la & 15) != 0) { c.RaiseFault(State.Vector.GP, 0); return; }
        ulong lo = c.ReadLinear(la, half), hi = c.ReadLinear(la + (ulong)half, half);
        if (c.Faulted || !c.ProbeWrite(la, half * 2)) return;
        bool eq = lo == c.GetReg(Cpu.RAX, half) && hi == c.GetReg(Cpu.RDX, half);
        c.SetFlag(State.Rflags.ZF, eq);
        if (eq)
        {
            c.WriteLinear(la, half, c.GetReg(Cpu.RBX, half));
            c.WriteLinear(la + (ulong)half, half, c.GetReg(Cpu.RCX, half));
        }
        else
        {
            c.SetReg(Cpu.RAX, half, lo);
            c.SetReg(Cpu.RDX, half, hi);
        }
    }

    /// <summary>SALC (D6, undocumented by Intel, documented by AMD): AL = CF ? FFh : 00h, flags unchanged. Iced decodes
    /// D6 only outside 64-bit mode, so in 64-bit mode it is an invalid opcode (#UD) as on hardware.</summary>
    public static void Salc(Cpu c, ref DecodedOp op) => c.SetReg(Cpu.RAX, 1, c.CF ? 0xFFUL : 0);

    private static bool MaskEq(ulong a, ulong b, int s) => s == 8 ? a == b : ((a ^ b) & ((1UL << (s * 8)) - 1)) == 0;
}
