using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.State;
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
    /// The condition codes are set even when the comparison raised an unmasked exception (a stack underflow or an
    /// invalid operand reports unordered), but then nothing is popped: that is what the host CPU does.
    /// </summary>
    private static void ToConditionCodes(Cpu c, ref DecodedOp op, bool quiet, int pops)
    {
        if (!BeginNonControl(c, ref op)) return;
        ref var s = ref c.Fpu;
        var f = default(X87Flags);
        if (!Operand(c, ref op, ref f, out var b, out bool empty)) return;
        if (!Ordering(c, empty, b, quiet, ref f, out int code)) pops = 0;
        SetC320(c, code);
        for (int i = 0; i < pops; i++) Pop(c);
    }

    /// <summary>Compares ST(0) with <paramref name="b"/>; false when an unmasked exception was raised.</summary>
    private static bool Ordering(Cpu c, bool empty, Float80 b, bool quiet, ref X87Flags f, out int code)
    {
        code = 0b111;
        if (empty) return StackUnderflow(c);
        DenormalPrecedence(c.Fpu.St(0), ref f);
        var ord = SoftFloat80.Compare(c.Fpu.St(0), b, quiet, ref f);
        Record(c, f);
        SetC1(c, false);
        code = Code(ord);
        return !Unmasked(c, f.Raised & (X87Exception.Invalid | X87Exception.Denormal));
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

    /// <summary>FCOMI/FUCOMI ST(0), ST(i) with optional pop; the flags are set as for FCOM's condition codes.</summary>
    private static void ToRflags(Cpu c, ref DecodedOp op, bool quiet, bool pop)
    {
        if (!BeginNonControl(c, ref op)) return;
        ref var s = ref c.Fpu;
        int i = StIndex(ref op, 1);
        var f = default(X87Flags);
        bool empty = s.IsEmpty(0) || s.IsEmpty(i);
        ushort c1 = (ushort)(s.StatusWord & X87State.StatusC1);
        bool ok = Ordering(c, empty, empty ? default : s.St(i), quiet, ref f, out int code);
        // Unlike FCOM, C1 keeps its value unless there was a stack fault (as the host CPU shows).
        if (!empty) s.StatusWord = (ushort)((s.StatusWord & ~X87State.StatusC1) | c1);
        c.SetArithFlags((code & 1) != 0, (code & 2) != 0, false, (code & 4) != 0, false, false);
        if (pop && ok) Pop(c);
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
