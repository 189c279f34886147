using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.Flags;

namespace KhoEmu.Cpu.Semantics;

/// <summary>ADD, OR, ADC, SBB, AND, SUB, XOR, CMP, TEST, INC, DEC, NEG, NOT (Intel SDM vol. 2).</summary>
internal static class Alu
{
    /// <summary>reg, reg: the hot form, no memory and no fault.</summary>
    public static void RegReg<T>(Cpu c, ref DecodedOp op) where T : struct, IAluOp
    {
        int s = op.Size;
        ulong r = T.Compute(c, c.GetReg(op.R0, s), c.GetReg(op.R1, s), s);
        if (T.WritesResult) c.SetReg(op.R0, s, r);
    }

    /// <summary>reg, imm.</summary>
    public static void RegImm<T>(Cpu c, ref DecodedOp op) where T : struct, IAluOp
    {
        int s = op.Size;
        ulong r = T.Compute(c, c.GetReg(op.R0, s), op.Imm, s);
        if (T.WritesResult) c.SetReg(op.R0, s, r);
    }

    /// <summary>Any form, including memory destinations (read-modify-write: nothing changes if the write would fault).</summary>
    public static void Generic<T>(Cpu c, ref DecodedOp op) where T : struct, IAluOp
    {
        int s = op.Size;
        ulong b = op.K1 switch
        {
            OperandKind.Register => c.GetReg(op.R1, s),
            OperandKind.Immediate => op.Imm,
            _ => c.Read(op.Seg, c.Ea(ref op), s),
        };
        if (c.Faulted) return;
        if (op.K0 == OperandKind.Register)
        {
            ulong r = T.Compute(c, c.GetReg(op.R0, s), b, s);
            if (T.WritesResult) c.SetReg(op.R0, s, r);
            return;
        }
        ulong la = c.OperandLinear(ref op);
        ulong a = c.ReadLinear(la, s);
        if (c.Faulted) return;
        if (!T.WritesResult)
        {
            T.Compute(c, a, b, s);
            return;
        }
        if (!c.ProbeWrite(la, s)) return;
        c.WriteLinear(la, s, T.Compute(c, a, b, s));
    }

    /// <summary>Applies a one-operand operation to register or memory, probing a memory write first.</summary>
    private static void Unary(Cpu c, ref DecodedOp op, Func<Cpu, ulong, int, ulong> f)
    {
        int s = op.Size;
        if (op.K0 == OperandKind.Register)
        {
            c.SetReg(op.R0, s, f(c, c.GetReg(op.R0, s), s));
            return;
        }
        ulong la = c.OperandLinear(ref op);
        ulong a = c.ReadLinear(la, s);
        if (c.Faulted || !c.ProbeWrite(la, s)) return;
        c.WriteLinear(la, s, f(c, a, s));
    }

    private static readonly Func<Cpu, ulong, int, ulong> IncF = (c, a, s) =>
    {
        bool cf = c.CF;
        ulong r = a + 1;
        c.SetLazyWithCarry(FlagOp.Inc, s, a, 1, r, cf);
        return r;
    };

    private static readonly Func<Cpu, ulong, int, ulong> DecF = (c, a, s) =>
    {
        bool cf = c.CF;
        ulong r = a - 1;
        c.SetLazyWithCarry(FlagOp.Dec, s, a, 1, r, cf);
        return r;
    };

    private static readonly Func<Cpu, ulong, int, ulong> NegF = (c, a, s) =>
    {
        ulong r = 0 - a;
        c.SetLazy(FlagOp.Sub, s, 0, a, r);
        return r;
    };

    private static readonly Func<Cpu, ulong, int, ulong> NotF = (_, a, _) => ~a;

    public static void IncReg(Cpu c, ref DecodedOp op)
    {
        int s = op.Size;
        ulong a = c.GetReg(op.R0, s);
        bool cf = c.CF;
        ulong r = a + 1;
        c.SetLazyWithCarry(FlagOp.Inc, s, a, 1, r, cf);
        c.SetReg(op.R0, s, r);
    }

    public static void DecReg(Cpu c, ref DecodedOp op)
    {
        int s = op.Size;
        ulong a = c.GetReg(op.R0, s);
        bool cf = c.CF;
        ulong r = a - 1;
        c.SetLazyWithCarry(FlagOp.Dec, s, a, 1, r, cf);
        c.SetReg(op.R0, s, r);
    }

    public static void Inc(Cpu c, ref DecodedOp op) => Unary(c, ref op, IncF);
    public static void Dec(Cpu c, ref DecodedOp op) => Unary(c, ref op, DecF);
    public static void Neg(Cpu c, ref DecodedOp op) => Unary(c, ref op, NegF);
    public static void Not(Cpu c, ref DecodedOp op) => Unary(c, ref op, NotF);
}
