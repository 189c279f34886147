namespace KhoEmu.Cpu.X87;

public static partial class SoftFloat80
{
    /// <summary>FILD: exact for every 16-, 32- and 64-bit integer.</summary>
    public static Float80 FromInt64(long v)
    {
        if (v == 0) return Float80.Zero;
        ulong mag = v < 0 ? (ulong)-v : (ulong)v;
        int lz = Lzcnt(mag);
        return Pack(v < 0, Float80.Bias + 63 - lz, mag << lz);
    }

    /// <summary>FLD m32: exact; an SNaN raises IE and loads quieted, a denormal raises DE and loads normalized.</summary>
    public static Float80 FromSingle(uint bits, ref X87Flags f) =>
        FromIeee(bits >> 31 != 0, (int)((bits >> 23) & 0xFF), (ulong)(bits & 0x7FFFFF) << 40, 0xFF, 127, ref f);

    /// <summary>FLD m64: as <see cref="FromSingle"/>.</summary>
    public static Float80 FromDouble(ulong bits, ref X87Flags f) =>
        FromIeee(bits >> 63 != 0, (int)((bits >> 52) & 0x7FF), (bits & 0xF_FFFF_FFFF_FFFF) << 11, 0x7FF, 1023, ref f);

    /// <param name="fraction">The stored fraction aligned below bit 63.</param>
    private static Float80 FromIeee(bool sign, int exp, ulong fraction, int maxExp, int bias, ref X87Flags f)
    {
        f.RoundedUp = false;
        if (exp == maxExp)
        {
            if (fraction == 0) return Pack(sign, MaxExponent, IntegerBit);
            if ((fraction & QuietBit) == 0) f.Raised |= X87Exception.Invalid;
            return Pack(sign, MaxExponent, IntegerBit | QuietBit | fraction);
        }
        if (exp == 0)
        {
            if (fraction == 0) return Pack(sign, 0, 0);
            f.Raised |= X87Exception.Denormal;
            int lz = Lzcnt(fraction);
            return Pack(sign, Float80.Bias - bias + 1 - lz, fraction << lz);
        }
        return Pack(sign, exp - bias + Float80.Bias, IntegerBit | fraction);
    }

    /// <summary>FST/FSTP m32: rounds with the rounding control (precision control does not apply); a denormal source
    /// raises no DE.</summary>
    public static uint ToSingle(Float80 a, ushort cw, ref X87Flags f) =>
        (uint)ToIeee(a, cw, 24, 0xFF, 127, 23, ref f);

    /// <summary>FST/FSTP m64.</summary>
    public static ulong ToDouble(Float80 a, ushort cw, ref X87Flags f) => ToIeee(a, cw, 53, 0x7FF, 1023, 52, ref f);

    private static ulong ToIeee(Float80 a, ushort cw, int precision, int maxExp, int bias, int fractionBits, ref X87Flags f)
    {
        f.RoundedUp = false;
        ulong signBit = a.Sign ? 1UL << (fractionBits + 1 + (maxExp == 0xFF ? 8 : 11) - 1) : 0;
        ulong infinity = (ulong)maxExp << fractionBits;
        ulong quiet = 1UL << (fractionBits - 1);
        if (IsUnsupported(a))
        {
            f.Raised |= X87Exception.Invalid;
            return (1UL << (fractionBits + (maxExp == 0xFF ? 8 : 11))) | infinity | quiet;
        }
        if (IsNaN(a))
        {
            if (IsSignaling(a)) f.Raised |= X87Exception.Invalid;
            return signBit | infinity | quiet | ((a.Significand << 1) >> (64 - fractionBits));
        }
        if (IsInfinity(a)) return signBit | infinity;
        if (IsZero(a)) return signBit;
        int exp = Normalize(a, out ulong s) - Float80.Bias + bias;
        ulong r = RoundToFormat(a.Sign, ref exp, s, 0, precision, maxExp, cw, false, ref f);
        ulong fraction = (r << 1) >> (64 - fractionBits);
        if (exp >= maxExp) return signBit | infinity;
        return signBit | ((ulong)exp << fractionBits) | fraction;
    }

    /// <summary>FIST/FISTP (<paramref name="truncate"/> false: rounding control) and FISTTP (true) to a
    /// <paramref name="bits"/>-bit integer (16, 32, 64); out of range or NaN gives the integer indefinite.</summary>
    /// <returns>The integer sign-extended to 64 bits; the caller stores the low <paramref name="bits"/> bits.</returns>
    public static long ToInt(Float80 a, int bits, bool truncate, ushort cw, ref X87Flags f)
    {
        f.RoundedUp = false;
        long indefinite = bits == 16 ? short.MinValue : bits == 32 ? int.MinValue : long.MinValue;
        if (IsUnsupported(a) || IsNaN(a) || IsInfinity(a))
        {
            f.Raised |= X87Exception.Invalid;
            return indefinite;
        }
        if (IsZero(a)) return 0;
        if (!RoundToIntegerMagnitude(a, truncate ? RoundZero : RoundingControl(cw), out ulong mag, out bool inexact, out bool up)
            || mag > (a.Sign ? 1UL << (bits - 1) : (1UL << (bits - 1)) - 1))
        {
            f.Raised |= X87Exception.Invalid;
            return indefinite;
        }
        if (inexact) f.Raised |= X87Exception.Precision;
        f.RoundedUp = up;
        return a.Sign ? (long)(0 - mag) : (long)mag;
    }

    /// <summary>The magnitude of a finite non-zero value rounded to an integer; false when it needs more than 64 bits.</summary>
    internal static bool RoundToIntegerMagnitude(Float80 a, int rc, out ulong mag, out bool inexact, out bool up)
    {
        int e = Normalize(a, out ulong hi) - Float80.Bias;
        mag = 0;
        inexact = up = false;
        if (e > 63) return false;
        ulong lo = 0;
        ShiftRightJam(ref hi, ref lo, 63 - e);
        mag = RoundBits(a.Sign, hi, lo, 0, rc, out inexact, out up, out bool carry);
        return !carry;
    }
}
