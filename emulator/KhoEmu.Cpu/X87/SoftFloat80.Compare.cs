namespace KhoEmu.Cpu.X87;

public static partial class SoftFloat80
{
    /// <summary>FCOM/FCOMI (<paramref name="quiet"/> false: any NaN is invalid) or FUCOM/FUCOMI (only SNaNs are).</summary>
    /// <remarks>Denormal operands raise DE; the compare itself ignores the control word.</remarks>
    public static X87Ordering Compare(Float80 a, Float80 b, bool quiet, ref X87Flags f)
    {
        f.RoundedUp = false;
        if (IsUnsupported(a) || IsUnsupported(b))
        {
            f.Raised |= X87Exception.Invalid;
            return X87Ordering.Unordered;
        }
        if (IsNaN(a) || IsNaN(b))
        {
            if (!quiet || IsSignaling(a) || IsSignaling(b)) f.Raised |= X87Exception.Invalid;
            return X87Ordering.Unordered;
        }
        if (IsDenormal(a) || IsDenormal(b)) f.Raised |= X87Exception.Denormal;
        bool zeroA = IsZero(a), zeroB = IsZero(b);
        if (zeroA && zeroB) return X87Ordering.Equal;
        if (a.Sign != b.Sign) return a.Sign ? X87Ordering.Less : X87Ordering.Greater;
        int c = CompareMagnitude(a, zeroA, b, zeroB);
        if (c == 0) return X87Ordering.Equal;
        return (c > 0) ^ a.Sign ? X87Ordering.Greater : X87Ordering.Less;
    }

    private static int CompareMagnitude(Float80 a, bool zeroA, Float80 b, bool zeroB)
    {
        if (zeroA) return zeroB ? 0 : -1;
        if (zeroB) return 1;
        int ea = Normalize(a, out ulong sa), eb = Normalize(b, out ulong sb);
        if (ea != eb) return ea < eb ? -1 : 1;
        return sa.CompareTo(sb);
    }

    /// <summary>FXAM's class of a non-empty register (C1, the sign, is the caller's).</summary>
    public static X87Class Examine(Float80 a)
    {
        if (IsUnsupported(a)) return X87Class.Unsupported;
        if (a.Exponent == MaxExponent) return a.Significand == IntegerBit ? X87Class.Infinity : X87Class.NaN;
        if (a.Exponent == 0) return a.Significand == 0 ? X87Class.Zero : X87Class.Denormal;
        return X87Class.Normal;
    }
}
