namespace KhoEmu.Cpu.X87;

public static partial class SoftFloat80
{
    /// <summary>FRNDINT: rounds to an integer with the rounding control (precision control does not apply).</summary>
    public static Float80 RoundToInteger(Float80 a, ushort cw, ref X87Flags f)
    {
        f.RoundedUp = false;
        if (IsUnsupported(a)) return InvalidResult(ref f);
        if (IsNaN(a)) return PropagateNaN(a, a, ref f);
        if (IsInfinity(a) || IsZero(a)) return a;
        if (DenormalStops(a, a, cw, ref f)) return a;
        if (a.Exponent >= Float80.Bias + 63) return a;
        RoundToIntegerMagnitude(a, RoundingControl(cw), out ulong mag, out bool inexact, out bool up);
        if (inexact) f.Raised |= X87Exception.Precision;
        f.RoundedUp = up;
        if (mag == 0) return Pack(a.Sign, 0, 0);
        int lz = Lzcnt(mag);
        return Pack(a.Sign, Float80.Bias + 63 - lz, mag << lz);
    }

    /// <summary>FSCALE: <paramref name="a"/> × 2^trunc(<paramref name="b"/>), rounded at 64 bits.</summary>
    public static Float80 Scale(Float80 a, Float80 b, ushort cw, ref X87Flags f)
    {
        f.RoundedUp = false;
        if (IsUnsupported(a) || IsUnsupported(b)) return InvalidResult(ref f);
        if (IsNaN(a) || IsNaN(b)) return PropagateNaN(a, b, ref f);
        bool zeroA = IsZero(a), infA = IsInfinity(a);
        if (IsInfinity(b))
        {
            if ((zeroA && !b.Sign) || (infA && b.Sign)) return InvalidResult(ref f);
            if (DenormalStops(a, a, cw, ref f)) return a;
            if (zeroA || infA) return a;
            return b.Sign ? Pack(a.Sign, 0, 0) : Pack(a.Sign, MaxExponent, IntegerBit);
        }
        if (DenormalStops(a, b, cw, ref f)) return a;
        if (zeroA || infA) return a;
        int n = TruncatedExponentOperand(b);
        int e = Normalize(a, out ulong s);
        return RoundPack(a.Sign, e + n, s, 0, 64, cw, ref f);
    }

    /// <summary>trunc(b) clamped to ±2^20, far past every exponent a result can have.</summary>
    private static int TruncatedExponentOperand(Float80 b)
    {
        if (IsZero(b)) return 0;
        int e = Normalize(b, out ulong s) - Float80.Bias;
        if (e < 0) return 0;
        int mag = e >= 20 ? 1 << 20 : (int)(s >> (63 - e));
        return b.Sign ? -mag : mag;
    }

    /// <summary>FXTRACT: the unbiased exponent and the significand (scaled into [1, 2)) of <paramref name="a"/>.</summary>
    /// <remarks>Zero: ZE, exponent −∞, significand the zero. ∞: exponent +∞, significand the ∞. A denormal's
    /// exponent is that of its leading one (below −16382).</remarks>
    public static void Extract(Float80 a, ushort cw, ref X87Flags f, out Float80 exponent, out Float80 significand)
    {
        f.RoundedUp = false;
        if (IsUnsupported(a))
        {
            exponent = significand = InvalidResult(ref f);
            return;
        }
        if (IsNaN(a))
        {
            exponent = significand = PropagateNaN(a, a, ref f);
            return;
        }
        if (IsZero(a))
        {
            f.Raised |= X87Exception.ZeroDivide;
            exponent = Pack(true, MaxExponent, IntegerBit);
            significand = a;
            return;
        }
        if (IsInfinity(a))
        {
            exponent = Float80.PositiveInfinity;
            significand = a;
            return;
        }
        if (DenormalStops(a, a, cw, ref f))
        {
            exponent = significand = a;
            return;
        }
        int e = Normalize(a, out ulong s);
        exponent = FromInt64(e - Float80.Bias);
        significand = Pack(a.Sign, Float80.Bias, s);
    }
}
