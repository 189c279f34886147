using KhoEmu.Cpu.SseFloat;
using NUnit.Framework;

namespace KhoEmu.Cpu.Tests;

/// <summary>
/// The SSE floating-point core (<see cref="FpArith"/>, <see cref="FpExact"/>, <see cref="FpConvert"/>,
/// <see cref="FpCompare"/>) against the SDM's rules: each rounding mode (vol. 1, 4.8.4), masked overflow responses
/// (table 4-10), underflow with tininess after rounding, masked and unmasked (4.9.1.5, 11.5.2.5), FTZ and DAZ
/// (10.2.3.3-4), invalid operations and the real indefinite, SSE NaN propagation (table 4-7), divide by zero,
/// conversions' integer indefinite, and the fast path agreeing with the exact one.
/// </summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class SseFloatCoreTests
{
    private const uint Rn = 0x1F80, Rd = 0x3F80, Ru = 0x5F80, Rz = 0x7F80, Ftz = 0x8000, Daz = 0x40;
    private const uint IE = 1, DE = 2, ZE = 4, OE = 8, UE = 16, PE = 32;
    private const ulong MinNormal = 0x0010_0000_0000_0000, Indefinite = 0xFFF8_0000_0000_0000;

    private static ulong D(double x) => BitConverter.DoubleToUInt64Bits(x);
    private static uint F(float x) => BitConverter.SingleToUInt32Bits(x);

    private static (ulong R, uint Flags) Dbl(FpOp op, ulong a, ulong b, uint mx)
    {
        uint fl = 0;
        ulong r = FpArith.Double(op, a, b, mx, ref fl);
        return (r, fl);
    }

    private static (uint R, uint Flags) Sgl(FpOp op, uint a, uint b, uint mx)
    {
        uint fl = 0;
        uint r = FpArith.Single(op, a, b, mx, ref fl);
        return (r, fl);
    }

    [TestCase(Rn, 1.0, 0x3FF0_0000_0000_0000UL)]
    [TestCase(Rd, 1.0, 0x3FF0_0000_0000_0000UL)]
    [TestCase(Ru, 1.0, 0x3FF0_0000_0000_0001UL)]
    [TestCase(Rz, 1.0, 0x3FF0_0000_0000_0000UL)]
    [TestCase(Rn, -1.0, 0xBFF0_0000_0000_0000UL)]
    [TestCase(Rd, -1.0, 0xBFF0_0000_0000_0001UL)]
    [TestCase(Ru, -1.0, 0xBFF0_0000_0000_0000UL)]
    [TestCase(Rz, -1.0, 0xBFF0_0000_0000_0000UL)]
    public void EachRoundingModeOnAnInexactSum(uint mx, double one, ulong expected)
    {
        // one + one * 2^-60 lies just beyond 1 in magnitude.
        var (r, fl) = Dbl(FpOp.Add, D(one), D(one * Math.ScaleB(1, -60)), mx);
        Assert.That(r, Is.EqualTo(expected));
        Assert.That(fl, Is.EqualTo(PE));
    }

    [Test]
    public void HalfwayCasesRoundToEven()
    {
        Assert.That(Dbl(FpOp.Add, D(1.0), D(Math.ScaleB(1, -53)), Rn), Is.EqualTo((D(1.0), PE)));
        Assert.That(Dbl(FpOp.Add, D(1.0), D(3 * Math.ScaleB(1, -53)), Rn), Is.EqualTo((D(1.0) + 2, PE)));
        Assert.That(Sgl(FpOp.Add, F(1f), F(MathF.ScaleB(1, -24)), Rn), Is.EqualTo((F(1f), PE)));
        Assert.That(Sgl(FpOp.Add, F(1f), F(MathF.ScaleB(1, -24)), Ru), Is.EqualTo((F(1f) + 1, PE)));
    }

    [TestCase(Rn, 0x3EAA_AAABu)]
    [TestCase(Rd, 0x3EAA_AAAAu)]
    [TestCase(Ru, 0x3EAA_AAABu)]
    [TestCase(Rz, 0x3EAA_AAAAu)]
    public void SingleQuotientInEachMode(uint mx, uint expected) =>
        Assert.That(Sgl(FpOp.Div, F(1f), F(3f), mx), Is.EqualTo((expected, PE)));

    [TestCase(Rn, false, 0x7FF0_0000_0000_0000UL)]
    [TestCase(Rn, true, 0xFFF0_0000_0000_0000UL)]
    [TestCase(Rd, false, 0x7FEF_FFFF_FFFF_FFFFUL)]
    [TestCase(Rd, true, 0xFFF0_0000_0000_0000UL)]
    [TestCase(Ru, false, 0x7FF0_0000_0000_0000UL)]
    [TestCase(Ru, true, 0xFFEF_FFFF_FFFF_FFFFUL)]
    [TestCase(Rz, false, 0x7FEF_FFFF_FFFF_FFFFUL)]
    [TestCase(Rz, true, 0xFFEF_FFFF_FFFF_FFFFUL)]
    public void MaskedOverflowResponsesOfTable4_10(uint mx, bool negative, ulong expected)
    {
        double max = negative ? -double.MaxValue : double.MaxValue;
        Assert.That(Dbl(FpOp.Mul, D(max), D(2.0), mx), Is.EqualTo((expected, OE | PE)));
    }

    [Test]
    public void UnderflowIsTininessAfterRoundingAndNeedsInexactWhenMasked()
    {
        Assert.That(Dbl(FpOp.Mul, MinNormal, D(0.5), Rn), Is.EqualTo((MinNormal >> 1, 0u)), "an exact denormal signals nothing");
        Assert.That(Dbl(FpOp.Mul, MinNormal + 1, D(0.5), Rn), Is.EqualTo((MinNormal >> 1, UE | PE)), "tiny and inexact (tie to even)");
        Assert.That(Dbl(FpOp.Mul, MinNormal + 1, D(0.5), Ru), Is.EqualTo(((MinNormal >> 1) + 1, UE | PE)));
        // (2^-1022 + 2^-1074) * (1 - 2^-52) = 2^-1022 * (1 - 2^-104): rounded to 53 bits it is 2^-1022, not tiny.
        Assert.That(Dbl(FpOp.Mul, MinNormal + 1, 0x3FEF_FFFF_FFFF_FFFE, Rn), Is.EqualTo((MinNormal, PE)));
        // 2^-1022 * (1 - 2^-53) rounded to 53 bits is itself: tiny, then rounded to the denormal grid it is 2^-1022.
        Assert.That(Dbl(FpOp.Mul, MinNormal, 0x3FEF_FFFF_FFFF_FFFF, Rn), Is.EqualTo((MinNormal, UE | PE)));
    }

    [Test]
    public void UnmaskedUnderflowSignalsOnAnyTinyResult()
    {
        uint um = Rn & ~0x800u;
        Assert.That(Dbl(FpOp.Mul, MinNormal, D(0.5), um).Flags, Is.EqualTo(UE));
        Assert.That(Dbl(FpOp.Mul, MinNormal + 1, D(0.5), um).Flags, Is.EqualTo(UE | PE));
    }

    [Test]
    public void FlushToZeroAppliesOnlyWithUnderflowMasked()
    {
        Assert.That(Dbl(FpOp.Mul, MinNormal + 1, D(-0.5), Rn | Ftz), Is.EqualTo((1UL << 63, UE | PE)), "a zero of the true sign");
        Assert.That(Sgl(FpOp.Div, 0x0080_0000, F(4f), Rn | Ftz), Is.EqualTo((0u, UE | PE)));
        Assert.That(Dbl(FpOp.Mul, MinNormal + 1, D(0.5), (Rn | Ftz) & ~0x800u).Flags, Is.EqualTo(UE | PE), "unmasked: the exception instead");
    }

    [Test]
    public void DenormalsAreZerosOnInput()
    {
        Assert.That(Dbl(FpOp.Add, D(1.0), 1, Rn), Is.EqualTo((D(1.0), DE | PE)));
        Assert.That(Dbl(FpOp.Add, D(1.0), 1, Rn | Daz), Is.EqualTo((D(1.0), 0u)));
        Assert.That(Dbl(FpOp.Mul, 0x8000_0000_0000_0001, D(double.PositiveInfinity), Rn | Daz), Is.EqualTo((Indefinite, IE)), "-0 * inf");
        Assert.That(Sgl(FpOp.Sqrt, 0, 0x8000_0001, Rn), Is.EqualTo((0xFFC0_0000u, IE)), "sqrt of a negative denormal");
        Assert.That(Sgl(FpOp.Sqrt, 0, 0x8000_0001, Rn | Daz), Is.EqualTo((0x8000_0000u, 0u)), "sqrt(-0) = -0");
    }

    [Test]
    public void InvalidOperationsGiveTheRealIndefinite()
    {
        double inf = double.PositiveInfinity;
        Assert.That(Dbl(FpOp.Sub, D(inf), D(inf), Rn), Is.EqualTo((Indefinite, IE)));
        Assert.That(Dbl(FpOp.Add, D(inf), D(-inf), Rn), Is.EqualTo((Indefinite, IE)));
        Assert.That(Dbl(FpOp.Mul, D(0.0), D(-inf), Rn), Is.EqualTo((Indefinite, IE)));
        Assert.That(Dbl(FpOp.Div, D(0.0), D(-0.0), Rn), Is.EqualTo((Indefinite, IE)));
        Assert.That(Dbl(FpOp.Div, D(inf), D(inf), Rn), Is.EqualTo((Indefinite, IE)));
        Assert.That(Dbl(FpOp.Sqrt, 0, D(-1.0), Rn), Is.EqualTo((Indefinite, IE)));
        Assert.That(Dbl(FpOp.Sqrt, 0, D(-0.0), Rn), Is.EqualTo((D(-0.0), 0u)));
    }

    [Test]
    public void NaNsPropagateFromTheFirstSourceQuieted()
    {
        const ulong qa = 0x7FF8_0000_0000_00A1, sb = 0xFFF0_0000_0000_00B2, sa = 0x7FF0_0000_0000_00A3, qb = 0xFFF8_0000_0000_00B4;
        Assert.That(Dbl(FpOp.Add, qa, sb, Rn), Is.EqualTo((qa, IE)), "QNaN dest wins over an SNaN source");
        Assert.That(Dbl(FpOp.Mul, sa, qb, Rn), Is.EqualTo((sa | 1UL << 51, IE)), "an SNaN dest comes back quieted");
        Assert.That(Dbl(FpOp.Div, D(1.0), sb, Rn), Is.EqualTo((sb | 1UL << 51, IE)));
        Assert.That(Dbl(FpOp.Sub, qa, qb, Rn), Is.EqualTo((qa, 0u)), "QNaNs signal nothing");
        Assert.That(Sgl(FpOp.Add, F(1f), 0x7F80_0001, Rn), Is.EqualTo((0x7FC0_0001u, IE)));
    }

    [Test]
    public void DivideByZero()
    {
        Assert.That(Dbl(FpOp.Div, D(-1.0), D(0.0), Rn), Is.EqualTo((D(double.NegativeInfinity), ZE)));
        Assert.That(Dbl(FpOp.Div, 1, D(-0.0), Rn), Is.EqualTo((D(double.NegativeInfinity), ZE)), "a denormal dividend: ZE without DE");
        Assert.That(Dbl(FpOp.Div, D(double.PositiveInfinity), D(0.0), Rn), Is.EqualTo((D(double.PositiveInfinity), 0u)));
    }

    [TestCase(Rn, 2.5, 2UL)]
    [TestCase(Rd, 2.5, 2UL)]
    [TestCase(Ru, 2.5, 3UL)]
    [TestCase(Rz, 2.5, 2UL)]
    [TestCase(Rn, -2.5, 0xFFFF_FFFEUL)]
    [TestCase(Rd, -2.5, 0xFFFF_FFFDUL)]
    [TestCase(Ru, -2.5, 0xFFFF_FFFEUL)]
    [TestCase(Rz, -2.5, 0xFFFF_FFFEUL)]
    [TestCase(Rn, 3.5, 4UL)]
    public void FloatToIntInEachMode(uint mx, double x, ulong expected)
    {
        uint fl = 0;
        Assert.That(FpConvert.FloatToInt(D(x), FpFormat.Double, 32, false, mx, ref fl), Is.EqualTo(expected));
        Assert.That(fl, Is.EqualTo(PE));
    }

    [Test]
    public void FloatToIntOutOfRangeGivesTheIntegerIndefinite()
    {
        static (ulong, uint) Cvt(ulong x, FpFormat f, int bits, bool t, uint mx = Rn)
        {
            uint fl = 0;
            ulong r = FpConvert.FloatToInt(x, f, bits, t, mx, ref fl);
            return (r, fl);
        }
        Assert.That(Cvt(D(2147483648.0), FpFormat.Double, 32, true), Is.EqualTo((0x8000_0000UL, IE)));
        Assert.That(Cvt(D(-2147483648.0), FpFormat.Double, 32, true), Is.EqualTo((0x8000_0000UL, 0u)), "the most negative int32 is in range");
        Assert.That(Cvt(D(-2147483648.5), FpFormat.Double, 32, true), Is.EqualTo((0x8000_0000UL, PE)), "truncated into range");
        Assert.That(Cvt(D(-2147483648.5), FpFormat.Double, 32, false), Is.EqualTo((0x8000_0000UL, PE)), "ties to even: -2^31");
        Assert.That(Cvt(D(-2147483649.5), FpFormat.Double, 32, false), Is.EqualTo((0x8000_0000UL, IE)));
        Assert.That(Cvt(D(1e19), FpFormat.Double, 64, false), Is.EqualTo((0x8000_0000_0000_0000UL, IE)));
        Assert.That(Cvt(0x7FF8_0000_0000_0000, FpFormat.Double, 64, true), Is.EqualTo((0x8000_0000_0000_0000UL, IE)));
        Assert.That(Cvt(F(float.NegativeInfinity), FpFormat.Single, 32, false), Is.EqualTo((0x8000_0000UL, IE)));
        Assert.That(Cvt(D(2.9999), FpFormat.Double, 32, true), Is.EqualTo((2UL, PE)));
        Assert.That(Cvt(1, FpFormat.Double, 32, false, Ru), Is.EqualTo((1UL, PE)), "a denormal rounds up to 1, no DE");
        Assert.That(Cvt(1, FpFormat.Double, 32, false, Ru | Daz), Is.EqualTo((0UL, 0u)), "with DAZ it is zero");
    }

    [Test]
    public void IntegerAndFloatConversionsRound()
    {
        uint fl = 0;
        Assert.That(FpConvert.IntToFloat((1 << 24) + 1, FpFormat.Single, Rn, ref fl), Is.EqualTo((ulong)F(16777216f)));
        Assert.That(FpConvert.IntToFloat((1 << 24) + 1, FpFormat.Single, Ru, ref fl), Is.EqualTo((ulong)F(16777218f)));
        Assert.That(FpConvert.IntToFloat(long.MinValue, FpFormat.Double, Rn, ref fl), Is.EqualTo(D(-9223372036854775808.0)));
        Assert.That(fl, Is.EqualTo(PE));
        fl = 0;
        Assert.That(FpConvert.FloatToFloat(D(1e300), FpFormat.Double, FpFormat.Single, Rz, ref fl), Is.EqualTo((ulong)F(float.MaxValue)));
        Assert.That(fl, Is.EqualTo(OE | PE));
        fl = 0;
        Assert.That(FpConvert.FloatToFloat(0x7FF4_0000_0000_0001, FpFormat.Double, FpFormat.Single, Rn, ref fl), Is.EqualTo(0x7FE0_0000UL), "SNaN quieted, payload truncated");
        Assert.That(fl, Is.EqualTo(IE));
        fl = 0;
        Assert.That(FpConvert.FloatToFloat(1, FpFormat.Single, FpFormat.Double, Rn, ref fl), Is.EqualTo(D(float.Epsilon)));
        Assert.That(fl, Is.EqualTo(DE), "widening a denormal is exact but signals DE");
    }

    [Test]
    public void ComparePredicatesSignalAsTheSdmLists()
    {
        const ulong qnan = 0x7FF8_0000_0000_0000, snan = 0x7FF0_0000_0000_0001;
        uint fl = 0;
        Assert.That(FpCompare.Predicate(0, D(1.0), qnan, FpFormat.Double, Rn, ref fl), Is.False);
        Assert.That(fl, Is.Zero, "EQ is quiet on a QNaN");
        Assert.That(FpCompare.Predicate(5, D(1.0), qnan, FpFormat.Double, Rn, ref fl), Is.True, "NLT of an unordered pair");
        Assert.That(fl, Is.EqualTo(IE), "NLT signals on a QNaN");
        fl = 0;
        Assert.That(FpCompare.Predicate(3, snan, D(1.0), FpFormat.Double, Rn, ref fl), Is.True);
        Assert.That(fl, Is.EqualTo(IE), "an SNaN always signals");
        fl = 0;
        Assert.That(FpCompare.Predicate(0, 1, D(0.0), FpFormat.Double, Rn | Daz, ref fl), Is.True, "DAZ: a denormal equals zero");
        Assert.That(fl, Is.Zero);
        Assert.That(FpCompare.Predicate(1, 1, D(0.0), FpFormat.Double, Rn, ref fl), Is.False);
        Assert.That(fl, Is.EqualTo(DE));
    }

    [Test]
    public void FastPathAgreesWithTheExactPathAndTheHost()
    {
        var r = new Random(TestSeeds.For(nameof(FastPathAgreesWithTheExactPathAndTheHost)));
        FpOp[] ops = [FpOp.Add, FpOp.Sub, FpOp.Mul, FpOp.Div, FpOp.Sqrt];
        for (int n = 0; n < 200_000; n++)
        {
            var op = ops[n % ops.Length];
            ulong a = SseFloatInputs.Lane64(r), b = SseFloatInputs.Lane64(r);
            uint a32 = SseFloatInputs.Lane32(r), b32 = SseFloatInputs.Lane32(r);
            uint f1 = 0, f2 = 0, g1 = 0, g2 = 0;
            ulong fast = FpArith.Double(op, a, b, Rn, ref f1), exact = FpExact.Compute(op, a, b, FpFormat.Double, Rn, ref f2);
            uint fast32 = FpArith.Single(op, a32, b32, Rn, ref g1);
            uint exact32 = (uint)FpExact.Compute(op, a32, b32, FpFormat.Single, Rn, ref g2);
            Assert.That((fast, f1), Is.EqualTo((exact, f2)), $"{op} {a:x16} {b:x16}");
            Assert.That((fast32, g1), Is.EqualTo((exact32, g2)), $"{op} {a32:x8} {b32:x8}");
            double x = BitConverter.UInt64BitsToDouble(a), y = BitConverter.UInt64BitsToDouble(b);
            double host = op switch { FpOp.Add => x + y, FpOp.Sub => x - y, FpOp.Mul => x * y, FpOp.Div => x / y, _ => Math.Sqrt(y) };
            if (!double.IsNaN(host)) Assert.That(exact, Is.EqualTo(D(host)), $"{op} {a:x16} {b:x16} against the host");
        }
    }
}
