using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.X87;
using static KhoEmu.Cpu.Semantics.X87Core;

namespace KhoEmu.Cpu.Semantics;

/// <summary>
/// x87 basic arithmetic (FADD/FSUB/FSUBR/FMUL/FDIV/FDIVR with their P and I forms), sign operations, FSQRT, FRNDINT,
/// FSCALE, FXTRACT, FPREM and FPREM1. The arithmetic itself is <see cref="SoftFloat80"/>'s; this file decides the
/// operands, the destination, stack faults and pops (Intel SDM vol. 2).
/// </summary>
internal static class X87Arithmetic
{
    private enum Op : byte { Add, Sub, Subr, Mul, Div, Divr }

    public static void Fadd(Cpu c, ref DecodedOp op) => Binary(c, ref op, Op.Add, false);
    public static void Fsub(Cpu c, ref DecodedOp op) => Binary(c, ref op, Op.Sub, false);
    public static void Fsubr(Cpu c, ref DecodedOp op) => Binary(c, ref op, Op.Subr, false);
    public static void Fmul(Cpu c, ref DecodedOp op) => Binary(c, ref op, Op.Mul, false);
    public static void Fdiv(Cpu c, ref DecodedOp op) => Binary(c, ref op, Op.Div, false);
    public static void Fdivr(Cpu c, ref DecodedOp op) => Binary(c, ref op, Op.Divr, false);
    public static void Faddp(Cpu c, ref DecodedOp op) => Binary(c, ref op, Op.Add, true);
    public static void Fsubp(Cpu c, ref DecodedOp op) => Binary(c, ref op, Op.Sub, true);
    public static void Fsubrp(Cpu c, ref DecodedOp op) => Binary(c, ref op, Op.Subr, true);
    public static void Fmulp(Cpu c, ref DecodedOp op) => Binary(c, ref op, Op.Mul, true);
    public static void Fdivp(Cpu c, ref DecodedOp op) => Binary(c, ref op, Op.Div, true);
    public static void Fdivrp(Cpu c, ref DecodedOp op) => Binary(c, ref op, Op.Divr, true);

    private static Float80 Apply(Op k, Float80 d, Float80 s, ushort cw, ref X87Flags f) => k switch
    {
        Op.Add => SoftFloat80.Add(d, s, cw, ref f),
        Op.Sub => SoftFloat80.Sub(d, s, cw, ref f),
        Op.Subr => SoftFloat80.Sub(s, d, cw, ref f),
        Op.Mul => SoftFloat80.Mul(d, s, cw, ref f),
        Op.Div => SoftFloat80.Div(d, s, cw, ref f),
        _ => SoftFloat80.Div(s, d, cw, ref f),
    };

    /// <summary>
    /// dest = dest op src. Memory forms (m32fp, m64fp, m16int, m32int) have ST(0) as destination; register forms
    /// name both registers; the P forms pop after storing.
    /// </summary>
    private static void Binary(Cpu c, ref DecodedOp op, Op k, bool pop)
    {
        if (!BeginNonControl(c, ref op)) return;
        var f = default(X87Flags);
        int dst;
        Float80 src;
        ref var s = ref c.Fpu;
        if (op.K0 == OperandKind.Memory)
        {
            if (!ReadOperand(c, ref op, ref f, out src, keepSignaling: true)) return;
            if (s.IsEmpty(0)) { if (StackUnderflow(c)) s.SetSt(0, Float80.Indefinite); return; }
            // The memory operand's denormal report ranks below a NaN/unsupported ST(0) and below a division by zero
            // (the widened operand is normal, so the arithmetic cannot tell by itself).
            DenormalPrecedence(s.St(0), ref f);
            var g = default(X87Flags);
            var res = Apply(k, s.St(0), src, s.ControlWord, ref g);
            if ((g.Raised & X87Exception.ZeroDivide) != 0) f.Raised &= ~X87Exception.Denormal;
            if (OperandFaults(c, f)) return;
            g.Raised |= f.Raised;
            Record(c, g);
            if (!BlocksRegister(c, g)) s.SetSt(0, res);
            return;
        }
        else
        {
            dst = StIndex(ref op, 0);
            int si = StIndex(ref op, 1);
            if (s.IsEmpty(dst) || s.IsEmpty(si))
            {
                if (!StackUnderflow(c)) return;
                s.SetSt(dst, Float80.Indefinite);
                if (pop) Pop(c);
                return;
            }
            src = s.St(si);
        }
        var r = Apply(k, s.St(dst), src, s.ControlWord, ref f);
        Record(c, f);
        if (BlocksRegister(c, f)) return;
        s.SetSt(dst, r);
        if (pop) Pop(c);
    }

    /// <summary>Runs <paramref name="fn"/> on a non-empty ST(0) (underflow otherwise) and stores its result there.</summary>
    private static void UnaryInPlace(Cpu c, ref DecodedOp op, Func<Float80, ushort, X87Flags, (Float80, X87Flags)> fn)
    {
        if (!BeginNonControl(c, ref op)) return;
        ref var s = ref c.Fpu;
        if (s.IsEmpty(0)) { if (StackUnderflow(c)) s.SetSt(0, Float80.Indefinite); return; }
        var (r, f) = fn(s.St(0), s.ControlWord, default);
        Record(c, f);
        if (!BlocksRegister(c, f)) s.SetSt(0, r);
    }

    /// <summary>FCHS and FABS change only the sign bit: no exceptions besides a stack underflow; C1 cleared.</summary>
    public static void Fchs(Cpu c, ref DecodedOp op) => Sign(c, ref op, true);
    public static void Fabs(Cpu c, ref DecodedOp op) => Sign(c, ref op, false);

    private static void Sign(Cpu c, ref DecodedOp op, bool negate)
    {
        if (!BeginNonControl(c, ref op)) return;
        ref var s = ref c.Fpu;
        if (s.IsEmpty(0)) { if (StackUnderflow(c)) s.SetSt(0, Float80.Indefinite); return; }
        SetC1(c, false);
        s.SetSt(0, negate ? s.St(0).Negate() : s.St(0).Abs());
    }

    public static void Fsqrt(Cpu c, ref DecodedOp op) =>
        UnaryInPlace(c, ref op, static (a, cw, f) => (SoftFloat80.Sqrt(a, cw, ref f), f));

    public static void Frndint(Cpu c, ref DecodedOp op) =>
        UnaryInPlace(c, ref op, static (a, cw, f) => (SoftFloat80.RoundToInteger(a, cw, ref f), f));

    /// <summary>FSCALE: ST(0) = ST(0) × 2^trunc(ST(1)).</summary>
    public static void Fscale(Cpu c, ref DecodedOp op)
    {
        if (!BeginNonControl(c, ref op)) return;
        ref var s = ref c.Fpu;
        if (s.IsEmpty(0) || s.IsEmpty(1)) { if (StackUnderflow(c)) s.SetSt(0, Float80.Indefinite); return; }
        var f = default(X87Flags);
        var r = SoftFloat80.Scale(s.St(0), s.St(1), s.ControlWord, ref f);
        Record(c, f);
        if (!BlocksRegister(c, f)) s.SetSt(0, r);
    }

    /// <summary>FXTRACT: ST(0) becomes the exponent, then the significand is pushed.</summary>
    public static void Fxtract(Cpu c, ref DecodedOp op)
    {
        if (!BeginNonControl(c, ref op)) return;
        ref var s = ref c.Fpu;
        if (TwoResultStackFault(c)) return;
        var f = default(X87Flags);
        SoftFloat80.Extract(s.St(0), s.ControlWord, ref f, out var exponent, out var significand);
        Record(c, f);
        if (BlocksRegister(c, f)) return;
        s.SetSt(0, exponent);
        Push(c, significand);
    }

    /// <summary>FPREM (truncating quotient) and FPREM1 (IEEE remainder): C0, C3, C1 get quotient bits 2, 1, 0;
    /// C2 says the reduction is incomplete.</summary>
    public static void Fprem(Cpu c, ref DecodedOp op) => PartialRemainder(c, ref op, false);
    public static void Fprem1(Cpu c, ref DecodedOp op) => PartialRemainder(c, ref op, true);

    private static void PartialRemainder(Cpu c, ref DecodedOp op, bool ieee)
    {
        if (!BeginNonControl(c, ref op)) return;
        ref var s = ref c.Fpu;
        if (s.IsEmpty(0) || s.IsEmpty(1))
        {
            if (StackUnderflow(c)) s.SetSt(0, Float80.Indefinite);
            s.StatusWord = (ushort)(s.StatusWord & ~State.X87State.StatusC2); // no partial result pending
            return;
        }
        var f = default(X87Flags);
        var r = SoftFloat80.PartialRemainder(s.St(0), s.St(1), ieee, s.ControlWord, ref f, out int q, out bool incomplete);
        Record(c, f);
        bool blocked = BlocksRegister(c, f);
        if (!blocked) s.SetSt(0, r);
        if (blocked || r.Exponent == 0x7FFF && (r.Significand << 1) != 0)
        {
            // No quotient (NaN or invalid operands, or an unmasked exception): only C2 is cleared, as on the host CPU.
            s.StatusWord = (ushort)(s.StatusWord & ~State.X87State.StatusC2);
            return;
        }
        SetC320(c, ((q & 2) << 1) | (incomplete ? 2 : 0) | ((q >> 2) & 1));
        SetC1(c, (q & 1) != 0);
    }

    /// <summary>
    /// Stack faults of the instructions that replace ST(0) and push a second result (FXTRACT, FPTAN, FSINCOS): an
    /// empty ST(0) (underflow) or a full ST(7) (overflow) with IE masked leaves the indefinite in ST(0) and pushes a
    /// second indefinite, whatever ST(7) held, as the host CPU does. Returns true when a fault was handled.
    /// </summary>
    internal static bool TwoResultStackFault(Cpu c)
    {
        ref var s = ref c.Fpu;
        bool underflow = s.IsEmpty(0);
        if (!underflow && s.IsEmpty(7)) return false;
        if (StackFault(c, !underflow))
        {
            s.SetSt(0, Float80.Indefinite);
            Push(c, Float80.Indefinite);
        }
        return true;
    }
}
