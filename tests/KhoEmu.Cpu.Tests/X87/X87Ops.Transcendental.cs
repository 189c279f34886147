using Iced.Intel;
using KhoEmu.Cpu.X87;
using static KhoEmu.Cpu.Tests.X87.X87Op;
using static KhoEmu.Cpu.Tests.X87.X87Thunk;

namespace KhoEmu.Cpu.Tests.X87;

/// <summary>The transcendentals, compared within <see cref="TranscendentalUlps"/> (the host is not correctly
/// rounded either); exception flags and C2 must match exactly, C1 (rounding direction) is not compared.</summary>
internal static partial class X87Ops
{
    /// <summary>The accepted distance from the host's result, in ulps of the 64-bit significand (docs/cpu.md).</summary>
    public const int TranscendentalUlps = 1;

    /// <summary>What the thunk's FSTP of the empty st1 leaves: the indefinite, or nothing (0) when IE is unmasked.</summary>
    private static Float80 EmptyPop(ushort cw) => (cw & 1) != 0 ? Float80.Indefinite : default;

    private static bool IsNaN(Float80 v) => v.Exponent == 0x7FFF && (v.Significand << 1) != 0;

    private static Float80 InRange(Random r, int minExp, int maxExp)
    {
        if (r.Next(16) == 0)
        {
            Float80 v = X87Operands.Value(r);
            if (v.Exponent == 0 || v.Exponent == 0x7FFF || (v.Significand >> 63) == 0) return v;
        }
        ulong s = 0x8000_0000_0000_0000 | (ulong)r.NextInt64() | ((ulong)r.Next(2) << 62);
        return new(s, (ushort)((r.Next(2) << 15) | (0x3FFF + r.Next(minExp, maxExp + 1))));
    }

    private static void Set(ref X87Block b, Float80 a, Float80 c, Random r)
    {
        b.A0 = a.Significand; b.A1 = a.SignExponent;
        b.B0 = c.Significand; b.B1 = c.SignExponent;
        b.Cw = X87Operands.ControlWord(r, true);
    }

    private static Float80 TrigOperand(Random r) => r.Next(4) switch
    {
        0 => InRange(r, -70, -1),
        1 => InRange(r, -1, 10),
        2 => InRange(r, 10, 62),
        _ => InRange(r, -2, 64),
    };

    private static X87Op Trig(string name, Action<Assembler> op, int which) => new(name,
        a => { a.fld(A(10)); op(a); StoreResults(a, which >= 2 ? 2 : 1); },
        (ref X87Block b) =>
        {
            var f = new X87Flags();
            bool c2;
            Float80 a = A80(b);
            switch (which)
            {
                case 0: SetR1(ref b, SoftFloat80.Sin(a, b.Cw, ref f, out c2)); break;
                case 1: SetR1(ref b, SoftFloat80.Cos(a, b.Cw, ref f, out c2)); break;
                case 2:
                    Float80 tan = SoftFloat80.Tan(a, b.Cw, ref f, out c2);
                    // out of range: nothing pushed, st1 is empty (stored as the indefinite)
                    SetR1(ref b, c2 ? a : IsNaN(tan) ? tan : Float80.One);
                    SetR2(ref b, c2 ? EmptyPop(b.Cw) : tan);
                    break;
                default:
                    SoftFloat80.SinCos(a, b.Cw, ref f, out Float80 sin, out Float80 cos, out c2);
                    SetR1(ref b, c2 ? a : cos);
                    SetR2(ref b, c2 ? EmptyPop(b.Cw) : sin);
                    break;
            }
            b.Sw = Sw(f, c2 ? C2 : 0);
        },
        (Random r, ref X87Block b) => Set(ref b, TrigOperand(r), default, r), 10, which >= 2 && which != 2 ? 10 : which == 2 ? 10 : 0,
        SwMask: 0x3F | C2, Cases: 15_000, UlpBound: TranscendentalUlps);

    private static X87Op Transcendental2(string name, Action<Assembler> op, Binary soft, Func<Random, (Float80, Float80)> operands) => new(name,
        a => { LoadBoth(a); op(a); StoreResults(a, 1); },
        (ref X87Block b) =>
        {
            var f = new X87Flags();
            SetR1(ref b, soft(A80(b), B80(b), b.Cw, ref f));
            b.Sw = Sw(f);
        },
        (Random r, ref X87Block b) => { (Float80 x, Float80 y) = operands(r); Set(ref b, x, y, r); }, 10,
        SwMask: 0x3F, Cases: 15_000, UlpBound: TranscendentalUlps);

    private static IEnumerable<X87Op> Transcendental()
    {
        yield return new("f2xm1", a => { a.fld(A(10)); a.f2xm1(); StoreResults(a, 1); },
            (ref X87Block b) =>
            {
                var f = new X87Flags();
                SetR1(ref b, SoftFloat80.F2xm1(A80(b), b.Cw, ref f));
                b.Sw = Sw(f);
            }, (Random r, ref X87Block b) => Set(ref b, r.Next(50) == 0 ? Float80.One.Negate() : InRange(r, -70, -1), default, r), 10,
            SwMask: 0x3F, Cases: 15_000, UlpBound: TranscendentalUlps);
        yield return Transcendental2("fyl2x", a => a.fyl2x(), SoftFloat80.Fyl2x, r =>
        {
            Float80 x = r.Next(3) == 0 ? InRange(r, -1, 0).Abs() : X87Operands.Value(r).Abs();
            if (r.Next(4) == 0) x = new(x.Significand, 0x3FFF);
            return (x, X87Operands.Value(r));
        });
        yield return Transcendental2("fyl2xp1", a => a.fyl2xp1(), SoftFloat80.Fyl2xp1, r => (InRange(r, -70, -3), X87Operands.Value(r)));
        yield return Transcendental2("fpatan", a => a.fpatan(), (x, y, cw, ref f) => SoftFloat80.Fpatan(y, x, cw, ref f), X87Operands.Pair);
        yield return Trig("fsin", a => a.fsin(), 0);
        yield return Trig("fcos", a => a.fcos(), 1);
        yield return Trig("fptan", a => a.fptan(), 2);
        yield return Trig("fsincos", a => a.fsincos(), 3);
    }
}
