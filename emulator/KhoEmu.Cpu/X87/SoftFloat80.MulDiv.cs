namespace KhoEmu.Cpu.X87;

public static partial class SoftFloat80
{
    public static Float80 Mul(Float80 a, Float80 b, ushort cw, ref X87Flags f)
    {
        f.RoundedUp = false;
        if (IsUnsupported(a) || IsUnsupported(b)) return InvalidResult(ref f);
        if (IsNaN(a) || IsNaN(b)) return PropagateNaN(a, b, ref f);
        bool sign = a.Sign ^ b.Sign;
        bool infA = IsInfinity(a), infB = IsInfinity(b), zeroA = IsZero(a), zeroB = IsZero(b);
        if ((infA && zeroB) || (infB && zeroA)) return InvalidResult(ref f);
        if (DenormalStops(a, b, cw, ref f)) return a;
        if (infA || infB) return Pack(sign, MaxExponent, IntegerBit);
        if (zeroA || zeroB) return Pack(sign, 0, 0);
        int expA = Normalize(a, out ulong sigA);
        int expB = Normalize(b, out ulong sigB);
        UInt128 p = (UInt128)sigA * sigB;
        int exp = expA + expB - Float80.Bias + 1;
        if ((p >> 127) == 0)
        {
            p <<= 1;
            exp--;
        }
        ulong hi = High(p, out ulong lo);
        return RoundPack(sign, exp, hi, lo, PrecisionBits(cw), cw, ref f);
    }

    public static Float80 Div(Float80 a, Float80 b, ushort cw, ref X87Flags f)
    {
        f.RoundedUp = false;
        if (IsUnsupported(a) || IsUnsupported(b)) return InvalidResult(ref f);
        if (IsNaN(a) || IsNaN(b)) return PropagateNaN(a, b, ref f);
        bool sign = a.Sign ^ b.Sign;
        bool infA = IsInfinity(a), infB = IsInfinity(b), zeroA = IsZero(a), zeroB = IsZero(b);
        if ((infA && infB) || (zeroA && zeroB)) return InvalidResult(ref f);
        if (zeroB && !infA)
        {
            f.Raised |= X87Exception.ZeroDivide;
            return Pack(sign, MaxExponent, IntegerBit);
        }
        if (DenormalStops(a, b, cw, ref f)) return a;
        if (infA || zeroB) return Pack(sign, MaxExponent, IntegerBit);
        if (infB || zeroA) return Pack(sign, 0, 0);
        int expA = Normalize(a, out ulong sigA);
        int expB = Normalize(b, out ulong sigB);
        int exp = expA - expB + Float80.Bias;
        UInt128 num;
        if (sigA < sigB)
        {
            num = (UInt128)sigA << 64;
            exp--;
        }
        else num = (UInt128)sigA << 63;
        UInt128 q = num / sigB;
        ulong rem = (ulong)(num - q * sigB);
        UInt128 num2 = (UInt128)rem << 64;
        UInt128 q2 = num2 / sigB;
        bool sticky = num2 - q2 * sigB != 0;
        return RoundPack(sign, exp, (ulong)q, (ulong)q2 | (sticky ? 1UL : 0), PrecisionBits(cw), cw, ref f);
    }

    public static Float80 Sqrt(Float80 a, ushort cw, ref X87Flags f)
    {
        f.RoundedUp = false;
        if (IsUnsupported(a)) return InvalidResult(ref f);
        if (IsNaN(a))
        {
            if (IsSignaling(a)) f.Raised |= X87Exception.Invalid;
            return Quiet(a);
        }
        if (IsZero(a)) return a;
        if (a.Sign) return InvalidResult(ref f);
        if (DenormalStops(a, a, cw, ref f)) return a;
        if (IsInfinity(a)) return a;
        int e = Normalize(a, out ulong s) - Float80.Bias;
        UInt128 m = (e & 1) != 0 ? (UInt128)s << 64 : (UInt128)s << 63;
        ulong q = ISqrt(m, out UInt128 rem);
        // sqrt(m) = q + frac with frac never exactly 1/2: frac > 1/2 exactly when rem > q.
        ulong extra = rem == 0 ? 0 : rem > q ? IntegerBit | 1 : 1;
        return RoundPack(false, (e >> 1) + Float80.Bias, q, extra, PrecisionBits(cw), cw, ref f);
    }

    /// <summary>floor(sqrt(m)) for m in [2^126, 2^128), and m − result².</summary>
    internal static ulong ISqrt(UInt128 m, out UInt128 rem)
    {
        ulong q = (ulong)Math.Min(Math.Sqrt((double)m), 18446744073709549568.0);
        q = (ulong)(((UInt128)q + m / q) >> 1);
        while ((UInt128)q * q > m) q--;
        while (q != ulong.MaxValue && (UInt128)(q + 1) * (q + 1) <= m) q++;
        rem = m - (UInt128)q * q;
        return q;
    }
}
