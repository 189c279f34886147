using System.Numerics;
using KhoEmu.Cpu.Decode;
using Vector = KhoEmu.Cpu.State.Vector;

namespace KhoEmu.Cpu.Semantics;

/// <summary>MUL, IMUL (one, two and three operands), DIV, IDIV in every size (Intel SDM vol. 2).</summary>
internal static class MulDiv
{
    private static ulong Mask(int s) => s == 8 ? ulong.MaxValue : (1UL << (s * 8)) - 1;
    private static long SignExtend(ulong v, int s) => s == 8 ? (long)v : (long)(v << (64 - s * 8)) >> (64 - s * 8);
    private static bool Parity(ulong v) => (BitOperations.PopCount(v & 0xFF) & 1) == 0;

    private static void SetMulFlags(Cpu c, int s, ulong low, bool overflow) =>
        c.SetArithFlags(overflow, Parity(low), false, (low & Mask(s)) == 0, ((low >> (s * 8 - 1)) & 1) != 0, overflow);

    /// <summary>Reads the single explicit source of MUL/IMUL/DIV/IDIV.</summary>
    private static ulong Source(Cpu c, ref DecodedOp op) => c.Load0(ref op);

    public static void Mul(Cpu c, ref DecodedOp op)
    {
        int s = op.Size;
        ulong b = Source(c, ref op);
        if (c.Faulted) return;
        ulong a = c.GetReg(Cpu.RAX, s);
        if (s == 8)
        {
            ulong hi = Math.BigMul(a, b, out ulong lo);
            c.Gpr[Cpu.RAX] = lo;
            c.Gpr[Cpu.RDX] = hi;
            SetMulFlags(c, s, lo, hi != 0);
            return;
        }
        ulong p = a * b;
        int bits = s * 8;
        ulong lowPart = p & Mask(s), high = (p >> bits) & Mask(s);
        if (s == 1) c.SetReg(Cpu.RAX, 2, p);
        else
        {
            c.SetReg(Cpu.RAX, s, lowPart);
            c.SetReg(Cpu.RDX, s, high);
        }
        SetMulFlags(c, s, lowPart, high != 0);
    }

    public static void Imul(Cpu c, ref DecodedOp op)
    {
        int s = op.Size;
        if (op.Insn.OpCount == 1)
        {
            long b = SignExtend(Source(c, ref op), s);
            if (c.Faulted) return;
            long a = SignExtend(c.GetReg(Cpu.RAX, s), s);
            if (s == 8)
            {
                long hi = Math.BigMul(a, b, out long lo);
                c.Gpr[Cpu.RAX] = (ulong)lo;
                c.Gpr[Cpu.RDX] = (ulong)hi;
                SetMulFlags(c, s, (ulong)lo, hi != (lo >> 63));
                return;
            }
            long p = a * b;
            ulong low = (ulong)p & Mask(s);
            bool of = p != SignExtend(low, s);
            if (s == 1) c.SetReg(Cpu.RAX, 2, (ulong)p);
            else
            {
                c.SetReg(Cpu.RAX, s, low);
                c.SetReg(Cpu.RDX, s, (ulong)(p >> (s * 8)));
            }
            SetMulFlags(c, s, low, of);
            return;
        }
        // Two- and three-operand forms: dest = src1 * src2, truncated.
        long x, y;
        if (op.Insn.OpCount == 2)
        {
            x = SignExtend(c.GetReg(op.R0, s), s);
            ulong v = c.Load1(ref op);
            if (c.Faulted) return;
            y = SignExtend(v, s);
        }
        else
        {
            ulong v = c.Load1(ref op);
            if (c.Faulted) return;
            x = SignExtend(v, s);
            y = SignExtend(op.Imm, s);
        }
        long hiPart = Math.BigMul(x, y, out long loPart);
        ulong r = (ulong)loPart & Mask(s);
        bool overflow = s == 8 ? hiPart != (loPart >> 63) : loPart != SignExtend(r, s);
        c.SetReg(op.R0, s, r);
        SetMulFlags(c, s, r, overflow);
    }

    public static void Div(Cpu c, ref DecodedOp op)
    {
        int s = op.Size;
        ulong d = Source(c, ref op) & Mask(s);
        if (c.Faulted) return;
        if (d == 0) { c.RaiseFault(Vector.DE); return; }
        if (s == 8)
        {
            UInt128 n = ((UInt128)c.Gpr[Cpu.RDX] << 64) | c.Gpr[Cpu.RAX];
            UInt128 q = n / d;
            if (q > ulong.MaxValue) { c.RaiseFault(Vector.DE); return; }
            c.Gpr[Cpu.RAX] = (ulong)q;
            c.Gpr[Cpu.RDX] = (ulong)(n % d);
            return;
        }
        int bits = s * 8;
        ulong num = s == 1 ? c.GetReg(Cpu.RAX, 2) : (c.GetReg(Cpu.RDX, s) << bits) | c.GetReg(Cpu.RAX, s);
        ulong quot = num / d, rem = num % d;
        if (quot > Mask(s)) { c.RaiseFault(Vector.DE); return; }
        if (s == 1) c.SetReg(Cpu.RAX, 2, quot | (rem << 8));
        else
        {
            c.SetReg(Cpu.RAX, s, quot);
            c.SetReg(Cpu.RDX, s, rem);
        }
    }

    public static void Idiv(Cpu c, ref DecodedOp op)
    {
        int s = op.Size;
        ulong raw = Source(c, ref op);
        if (c.Faulted) return;
        long d = SignExtend(raw, s);
        if (d == 0) { c.RaiseFault(Vector.DE); return; }
        if (s == 8)
        {
            Int128 n = (Int128)(((UInt128)c.Gpr[Cpu.RDX] << 64) | c.Gpr[Cpu.RAX]);
            if (n == Int128.MinValue && d == -1) { c.RaiseFault(Vector.DE); return; }
            Int128 q = n / d;
            if (q > long.MaxValue || q < long.MinValue) { c.RaiseFault(Vector.DE); return; }
            c.Gpr[Cpu.RAX] = (ulong)(long)q;
            c.Gpr[Cpu.RDX] = (ulong)(long)(n % d);
            return;
        }
        int bits = s * 8;
        long num = s == 1 ? (short)c.GetReg(Cpu.RAX, 2)
            : SignExtend((c.GetReg(Cpu.RDX, s) << bits) | c.GetReg(Cpu.RAX, s), s * 2);
        long quot = num / d, rem = num % d;
        long max = (1L << (bits - 1)) - 1, min = -(1L << (bits - 1));
        if (quot > max || quot < min) { c.RaiseFault(Vector.DE); return; }
        if (s == 1) c.SetReg(Cpu.RAX, 2, ((ulong)quot & 0xFF) | (((ulong)rem & 0xFF) << 8));
        else
        {
            c.SetReg(Cpu.RAX, s, (ulong)quot);
            c.SetReg(Cpu.RDX, s, (ulong)rem);
        }
    }
}
