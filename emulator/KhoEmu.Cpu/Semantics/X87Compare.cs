using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.X87;
using static KhoEmu.Cpu.Semantics.X87Core;

namespace KhoEmu.Cpu.Semantics;

/// <summary>
/// x87 comparisons: FCOM/FCOMP/FCOMPP, FUCOM/FUCOMP/FUCOMPP, FICOM/FICOMP and FTST set C3, C2, C0; FCOMI/FCOMIP and
/// FUCOMI/FUCOMIP set ZF, PF, CF (and clear OF, SF, AF); FXAM classifies ST(0) (Intel SDM vol. 2).
/// </summary>
internal static class X87Compare
{
    public static void Fcom(Cpu c, ref DecodedOp op) => ToConditionCodes(c, ref op, false, 0);
    public static void Fcomp(Cpu c, ref DecodedOp op) => ToConditionCodes(c, ref op, false, 1);
    public static void Fcompp(Cpu c, ref DecodedOp op) => ToConditionCodes(c, ref op, false, 2);
    public static void Fucom(Cpu c, ref DecodedOp op) => ToConditionCodes(c, ref op, true, 0);
    public static void Fucomp(Cpu c, ref DecodedOp op) => ToConditionCodes(c, ref op, true, 1);
    public static void Fucompp(Cpu c, ref DecodedOp op) => ToConditionCodes(c, ref op, true, 2);
    public static void Fcomi(Cpu c, ref DecodedOp op) => ToRflags(c, ref op, false, false);
    public static void Fcomip(Cpu c, ref DecodedOp op) => ToRflags(c, ref op, false, true);
    public static void Fucomi(Cpu c, ref DecodedOp op) => ToRflags(c, ref op, true, false);
    public static void Fucomip(Cpu c, ref DecodedOp op) => ToRflags(c, ref op, true, true);

    /// <summary>C3 C2 C0 (and ZF PF CF) for each ordering: greater 000, less 001, equal 100, unordered 111.</summary>
    private static int Code(X87Ordering o) => o switch
    {
        X87Ordering.Greater => 0b000,
        X87Ordering.Less => 0b001,
        X87Ordering.Equal => 0b100,
        _ => 0b111,
    };

    /// <summary>
    /// ST(0) against a memory operand (m32fp, m64fp, m16int, m32int), ST(i), ST(1) (no-operand forms) or +0.0 (FTST).
    /// A stack underflow with IE masked reports unordered; an unmasked invalid or denormal operand leaves the
    /// condition codes and the stack alone.
    /// </summary>
    private static void ToConditionCodes(Cpu c, ref DecodedOp op, bool quiet, int pops)
    {
        if (!BeginNonControl(c, ref op)) return;
        ref var s = ref c.Fpu;
        var f = default(X87Flags);
        if (!Operand(c, ref op, ref f, out var b, out bool empty)) return;
        if (empty)
        {
            if (!StackUnderflow(c)) return;
            SetC320(c, 0b111);
        }
        else
        {
            var ord = SoftFloat80.Compare(s.St(0), b, quiet, ref f);
            Record(c, f);
            SetC1(c, false);
            if (Unmasked(c, f.Raised & (X87Exception.Invalid | X87Exception.Denormal))) return;
            SetC320(c, Code(ord));
        }
        for (int i = 0; i < pops; i++) Pop(c);
    }

    public static void Ftst(Cpu c, ref DecodedOp op) => ToConditionCodes(c, ref op, false, 0);

    public static void Ficom(Cpu c, ref DecodedOp op) => ToConditionCodes(c, ref op, false, 0);
    public static void Ficomp(Cpu c, ref DecodedOp op) => ToConditionCodes(c, ref op, false, 1);

    private static bool Operand(Cpu c, ref DecodedOp op, ref X87Flags f, out Float80 b, out bool empty)
    {
        ref var s = ref c.Fpu;
        b = Float80.Zero;
        empty = false;
        if (op.K0 == OperandKind.Memory)
        {
            if (!ReadOperand(c, ref op, ref f, out b)) return false;
            empty = s.IsEmpty(0);
            return true;
        }
        int i = op.Insn.Mnemonic == Iced.Intel.Mnemonic.Ftst ? -1 : op.Insn.OpCount == 2 ? StIndex(ref op, 1) : 1;
        empty = s.IsEmpty(0) || i >= 0 && s.IsEmpty(i);
        if (i >= 0 && !empty) b = s.St(i);
        return true;
    }

    /// <summary>FCOMI/FUCOMI ST(0), ST(i) with optional pop; C1 is cleared.</summary>
    private static void ToRflags(Cpu c, ref DecodedOp op, bool quiet, bool pop)
    {
        if (!BeginNonControl(c, ref op)) return;
        ref var s = ref c.Fpu;
        int i = StIndex(ref op, 1);
        int code;
        if (s.IsEmpty(0) || s.IsEmpty(i))
        {
            if (!StackUnderflow(c)) return;
            code = 0b111;
        }
        else
        {
            var f = default(X87Flags);
            var ord = SoftFloat80.Compare(s.St(0), s.St(i), quiet, ref f);
            Record(c, f);
            SetC1(c, false);
            if (Unmasked(c, f.Raised & (X87Exception.Invalid | X87Exception.Denormal))) return;
            code = Code(ord);
        }
        c.SetArithFlags((code & 1) != 0, (code & 2) != 0, false, (code & 4) != 0, false, false);
        if (pop) Pop(c);
    }

    /// <summary>FXAM: C1 is the sign of ST(0); C3 C2 C0 its class, Empty for an empty register.</summary>
    public static void Fxam(Cpu c, ref DecodedOp op)
    {
        if (!BeginNonControl(c, ref op)) return;
        ref var s = ref c.Fpu;
        var v = s.St(0);
        var cls = s.IsEmpty(0) ? X87Class.Empty : SoftFloat80.Examine(v);
        SetC1(c, v.Sign);
        SetC320(c, (int)cls);
    }
}
