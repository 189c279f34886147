using Iced.Intel;
using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.X87;
using static KhoEmu.Cpu.Semantics.X87Core;

namespace KhoEmu.Cpu.Semantics;

/// <summary>x87 loads, stores and register moves: FLD/FILD/FBLD, the constants, FST/FSTP/FIST/FISTP/FISTTP/FBSTP,
/// FXCH and FCMOVcc (Intel SDM vol. 2).</summary>
internal static class X87LoadStore
{
    /// <summary>FLD m32fp/m64fp/m80fp/ST(i), FILD m16/m32/m64int, FBLD m80bcd.</summary>
    public static void Load(Cpu c, ref DecodedOp op)
    {
        if (!BeginNonControl(c, ref op)) return;
        var f = default(X87Flags);
        Float80 v;
        if (op.K0 == OperandKind.Memory)
        {
            if (!ReadOperand(c, ref op, ref f, out v)) return;
        }
        else
        {
            int i = StIndex(ref op, 0);
            // An empty source is reported as underflow even when ST(7) is full too (as the host CPU does).
            if (c.Fpu.IsEmpty(i))
            {
                if (StackUnderflow(c)) Push(c, Float80.Indefinite);
                return;
            }
            v = c.Fpu.St(i);
        }
        PushLoaded(c, v, f);
    }

    public static void Fld1(Cpu c, ref DecodedOp op) => Constant(c, ref op, X87Constant.One);
    public static void Fldl2t(Cpu c, ref DecodedOp op) => Constant(c, ref op, X87Constant.Log2Ten);
    public static void Fldl2e(Cpu c, ref DecodedOp op) => Constant(c, ref op, X87Constant.Log2E);
    public static void Fldpi(Cpu c, ref DecodedOp op) => Constant(c, ref op, X87Constant.Pi);
    public static void Fldlg2(Cpu c, ref DecodedOp op) => Constant(c, ref op, X87Constant.Log10Two);
    public static void Fldln2(Cpu c, ref DecodedOp op) => Constant(c, ref op, X87Constant.LnTwo);
    public static void Fldz(Cpu c, ref DecodedOp op) => Constant(c, ref op, X87Constant.Zero);

    private static void Constant(Cpu c, ref DecodedOp op, X87Constant which)
    {
        if (!BeginNonControl(c, ref op)) return;
        if (!RoomForPush(c)) return;
        SetC1(c, false);
        Push(c, SoftFloat80.Constant(which, c.Fpu.ControlWord));
    }

    /// <summary>FST/FSTP to m32fp, m64fp, m80fp or ST(i).</summary>
    public static void Fst(Cpu c, ref DecodedOp op) => Store(c, ref op, false);
    public static void Fstp(Cpu c, ref DecodedOp op) => Store(c, ref op, true);

    private static void Store(Cpu c, ref DecodedOp op, bool pop)
    {
        if (!BeginNonControl(c, ref op)) return;
        if (op.K0 == OperandKind.Register)
        {
            int i = StIndex(ref op, 0);
            if (c.Fpu.IsEmpty(0))
            {
                if (!StackUnderflow(c)) return;
                c.Fpu.SetSt(i, Float80.Indefinite);
            }
            else
            {
                SetC1(c, false);
                c.Fpu.SetSt(i, c.Fpu.St(0));
            }
            if (pop) Pop(c);
            return;
        }
        ulong la = c.OperandLinear(ref op);
        bool empty = c.Fpu.IsEmpty(0);
        if (empty && Unmasked(c, X87Exception.Invalid)) { StackUnderflow(c); return; }
        var a = empty ? Float80.Indefinite : c.Fpu.St(0);
        var f = default(X87Flags);
        ushort cw = c.Fpu.ControlWord;
        switch (op.Insn.MemorySize)
        {
            case MemorySize.Float32:
                {
                    uint bits = empty ? 0xFFC0_0000u : SoftFloat80.ToSingle(a, cw, ref f); // single-precision indefinite
                    if (!empty && BlocksMemory(c, f)) { Record(c, f); return; }
                    c.WriteLinear(la, 4, bits);
                    break;
                }
            case MemorySize.Float64:
                {
                    ulong bits = empty ? 0xFFF8_0000_0000_0000UL : SoftFloat80.ToDouble(a, cw, ref f);
                    if (!empty && BlocksMemory(c, f)) { Record(c, f); return; }
                    c.WriteLinear(la, 8, bits);
                    break;
                }
            default:
                WriteFloat80(c, la, a);
                break;
        }
        if (c.Faulted) return;
        Finish(c, empty, f, pop);
    }

    /// <summary>After a store has been written: the stack fault or the conversion's flags, then the pop.</summary>
    private static void Finish(Cpu c, bool empty, in X87Flags f, bool pop)
    {
        if (empty) StackUnderflow(c);
        else Record(c, f);
        if (pop) Pop(c);
    }

    /// <summary>FIST/FISTP (rounding control) and FISTTP (truncation) to m16int, m32int, m64int.</summary>
    public static void Fist(Cpu c, ref DecodedOp op) => StoreInteger(c, ref op, false, false);
    public static void Fistp(Cpu c, ref DecodedOp op) => StoreInteger(c, ref op, true, false);
    public static void Fisttp(Cpu c, ref DecodedOp op) => StoreInteger(c, ref op, true, true);

    private static void StoreInteger(Cpu c, ref DecodedOp op, bool pop, bool truncate)
    {
        if (!BeginNonControl(c, ref op)) return;
        int bytes = op.Insn.MemorySize switch { MemorySize.Int16 => 2, MemorySize.Int32 => 4, _ => 8 };
        ulong la = c.OperandLinear(ref op);
        bool empty = c.Fpu.IsEmpty(0);
        if (empty && Unmasked(c, X87Exception.Invalid)) { StackUnderflow(c); return; }
        var f = default(X87Flags);
        // The integer indefinite is the most negative integer of the destination size.
        long v = empty ? long.MinValue >> (64 - bytes * 8)
            : SoftFloat80.ToInt(c.Fpu.St(0), bytes * 8, truncate, c.Fpu.ControlWord, ref f);
        if (!empty && BlocksMemory(c, f)) { Record(c, f); return; }
        c.WriteLinear(la, bytes, (ulong)v);
        if (c.Faulted) return;
        Finish(c, empty, f, pop);
    }

    /// <summary>FBSTP m80bcd.</summary>
    public static void Fbstp(Cpu c, ref DecodedOp op)
    {
        if (!BeginNonControl(c, ref op)) return;
        ulong la = c.OperandLinear(ref op);
        bool empty = c.Fpu.IsEmpty(0);
        if (empty && Unmasked(c, X87Exception.Invalid)) { StackUnderflow(c); return; }
        var f = default(X87Flags);
        Span<byte> bcd = stackalloc byte[10];
        if (empty) { bcd.Clear(); bcd[7] = 0xC0; bcd[8] = 0xFF; bcd[9] = 0xFF; } // the packed-BCD indefinite
        else SoftFloat80.ToBcd(c.Fpu.St(0), c.Fpu.ControlWord, ref f, bcd);
        if (!empty && BlocksMemory(c, f)) { Record(c, f); return; }
        if (!c.ProbeWrite(la, 10)) return;
        for (int i = 0; i < 10; i++) c.WriteLinear(la + (ulong)i, 1, bcd[i]);
        if (c.Faulted) return;
        Finish(c, empty, f, true);
    }

    /// <summary>FXCH ST(i): an empty operand is a stack underflow; masked, empty operands become the indefinite first.</summary>
    public static void Fxch(Cpu c, ref DecodedOp op)
    {
        if (!BeginNonControl(c, ref op)) return;
        int i = StIndex(ref op, 1);
        ref var s = ref c.Fpu;
        bool e0 = s.IsEmpty(0), ei = s.IsEmpty(i);
        if (e0 || ei)
        {
            if (!StackUnderflow(c)) return;
            if (e0) s.SetSt(0, Float80.Indefinite);
            if (ei) s.SetSt(i, Float80.Indefinite);
        }
        else SetC1(c, false);
        var t = s.St(0);
        s.SetSt(0, s.St(i));
        s.SetSt(i, t);
    }

    public static void Fcmovb(Cpu c, ref DecodedOp op) => Fcmov(c, ref op, c.CF);
    public static void Fcmove(Cpu c, ref DecodedOp op) => Fcmov(c, ref op, c.ZF);
    public static void Fcmovbe(Cpu c, ref DecodedOp op) => Fcmov(c, ref op, c.CF || c.ZF);
    public static void Fcmovu(Cpu c, ref DecodedOp op) => Fcmov(c, ref op, c.PF);
    public static void Fcmovnb(Cpu c, ref DecodedOp op) => Fcmov(c, ref op, !c.CF);
    public static void Fcmovne(Cpu c, ref DecodedOp op) => Fcmov(c, ref op, !c.ZF);
    public static void Fcmovnbe(Cpu c, ref DecodedOp op) => Fcmov(c, ref op, !(c.CF || c.ZF));
    public static void Fcmovnu(Cpu c, ref DecodedOp op) => Fcmov(c, ref op, !c.PF);

    /// <summary>FCMOVcc ST(0), ST(i): an empty operand is a stack underflow whatever the condition.</summary>
    private static void Fcmov(Cpu c, ref DecodedOp op, bool condition)
    {
        if (!BeginNonControl(c, ref op)) return;
        int i = StIndex(ref op, 1);
        if (c.Fpu.IsEmpty(0) || c.Fpu.IsEmpty(i))
        {
            if (StackUnderflow(c)) c.Fpu.SetSt(0, Float80.Indefinite);
            return;
        }
        if (condition) c.Fpu.SetSt(0, c.Fpu.St(i)); // C1 is left alone (the SDM only defines it for underflow)
    }
}
