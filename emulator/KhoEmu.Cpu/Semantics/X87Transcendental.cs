using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.X87;
using static KhoEmu.Cpu.Semantics.X87Core;

namespace KhoEmu.Cpu.Semantics;

/// <summary>
/// x87 transcendental instructions: F2XM1, FYL2X, FYL2XP1, FPATAN, FPTAN, FSIN, FCOS, FSINCOS (Intel SDM vol. 2).
/// The function values come from <see cref="SoftFloat80"/>; this file handles operands, C2 for out-of-range
/// arguments, stack faults and pushes/pops.
/// </summary>
internal static class X87Transcendental
{
    public static void F2xm1(Cpu c, ref DecodedOp op)
    {
        if (!BeginNonControl(c, ref op)) return;
        ref var s = ref c.Fpu;
        if (s.IsEmpty(0)) { if (StackUnderflow(c)) s.SetSt(0, Float80.Indefinite); return; }
        var f = default(X87Flags);
        var r = SoftFloat80.F2xm1(s.St(0), s.ControlWord, ref f);
        Record(c, f);
        if (!BlocksRegister(c, f)) s.SetSt(0, r);
    }

    public static void Fyl2x(Cpu c, ref DecodedOp op) => IntoStOnePop(c, ref op, 0);
    public static void Fyl2xp1(Cpu c, ref DecodedOp op) => IntoStOnePop(c, ref op, 1);
    public static void Fpatan(Cpu c, ref DecodedOp op) => IntoStOnePop(c, ref op, 2);

    /// <summary>FYL2X, FYL2XP1 (ST(1) × log2(ST(0) [+ 1])) and FPATAN (arctan(ST(1) / ST(0))): result in ST(1), pop.</summary>
    private static void IntoStOnePop(Cpu c, ref DecodedOp op, int which)
    {
        if (!BeginNonControl(c, ref op)) return;
        ref var s = ref c.Fpu;
        if (s.IsEmpty(0) || s.IsEmpty(1))
        {
            if (!StackUnderflow(c)) return;
            s.SetSt(1, Float80.Indefinite);
            Pop(c);
            return;
        }
        var f = default(X87Flags);
        Float80 x = s.St(0), y = s.St(1);
        ushort cw = s.ControlWord;
        var r = which switch
        {
            0 => SoftFloat80.Fyl2x(x, y, cw, ref f),
            1 => SoftFloat80.Fyl2xp1(x, y, cw, ref f),
            _ => SoftFloat80.Fpatan(y, x, cw, ref f),
        };
        Record(c, f);
        if (BlocksRegister(c, f)) return;
        s.SetSt(1, r);
        Pop(c);
    }

    /// <summary>FSIN and FCOS: ST(0) replaced; |ST(0)| ≥ 2^63 sets C2 and leaves it unchanged.</summary>
    public static void Fsin(Cpu c, ref DecodedOp op) => Circular(c, ref op, false);
    public static void Fcos(Cpu c, ref DecodedOp op) => Circular(c, ref op, true);

    private static void Circular(Cpu c, ref DecodedOp op, bool cosine)
    {
        if (!BeginNonControl(c, ref op)) return;
        ref var s = ref c.Fpu;
        if (s.IsEmpty(0)) { if (StackUnderflow(c)) s.SetSt(0, Float80.Indefinite); OutOfRange(c, false); return; }
        var f = default(X87Flags);
        var r = cosine ? SoftFloat80.Cos(s.St(0), s.ControlWord, ref f, out bool outOfRange)
            : SoftFloat80.Sin(s.St(0), s.ControlWord, ref f, out outOfRange);
        if (OutOfRange(c, outOfRange)) return;
        Record(c, f);
        if (!BlocksRegister(c, f)) s.SetSt(0, r);
    }

    /// <summary>FPTAN: ST(0) = tan(ST(0)), then 1.0 is pushed (so that FDIVR gives the cotangent).</summary>
    public static void Fptan(Cpu c, ref DecodedOp op)
    {
        if (!BeginNonControl(c, ref op)) return;
        ref var s = ref c.Fpu;
        if (X87Arithmetic.TwoResultStackFault(c)) { OutOfRange(c, false); return; }
        var f = default(X87Flags);
        var r = SoftFloat80.Tan(s.St(0), s.ControlWord, ref f, out bool outOfRange);
        if (OutOfRange(c, outOfRange)) return;
        Record(c, f);
        if (BlocksRegister(c, f)) return;
        s.SetSt(0, r);
        // A NaN result (masked invalid or a NaN operand) is pushed in place of 1.0, as the host CPU does.
        bool nan = r.Exponent == 0x7FFF && (r.Significand << 1) != 0;
        Push(c, nan ? r : Float80.One);
    }

    /// <summary>FSINCOS: ST(0) = sin, then cos is pushed (ST(0) = cos, ST(1) = sin).</summary>
    public static void Fsincos(Cpu c, ref DecodedOp op)
    {
        if (!BeginNonControl(c, ref op)) return;
        ref var s = ref c.Fpu;
        if (X87Arithmetic.TwoResultStackFault(c)) { OutOfRange(c, false); return; }
        var f = default(X87Flags);
        SoftFloat80.SinCos(s.St(0), s.ControlWord, ref f, out var sin, out var cos, out bool outOfRange);
        if (OutOfRange(c, outOfRange)) return;
        Record(c, f);
        if (BlocksRegister(c, f)) return;
        s.SetSt(0, sin);
        Push(c, cos);
    }

    /// <summary>C2 reports an argument outside ±2^63 (nothing else changes then); C2 is cleared otherwise.</summary>
    private static bool OutOfRange(Cpu c, bool outOfRange)
    {
        ref ushort sw = ref c.Fpu.StatusWord;
        if (outOfRange) { sw |= State.X87State.StatusC2; return true; }
        sw = (ushort)(sw & ~State.X87State.StatusC2);
        return false;
    }
}
