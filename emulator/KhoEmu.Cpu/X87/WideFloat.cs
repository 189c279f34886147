namespace KhoEmu.Cpu.X87;

/// <summary>
/// A 128-bit-significand binary float for the transcendentals' intermediate results: value = Sig × 2^(Exp − 127)
/// with bit 127 of <see cref="Sig"/> set (or Sig = 0 for zero). Operations truncate (about 2^-126 relative error
/// each), which keeps the final 64-bit rounding within a fraction of an ulp of the exact value.
/// </summary>
internal readonly record struct WideFloat(bool Sign, int Exp, UInt128 Sig)
{
    internal static readonly WideFloat One = new(false, 0, (UInt128)1 << 127);
    internal static readonly WideFloat Ln2 = new(false, -1, new UInt128(0xB17217F7D1CF79AB, 0xC9E3B39803F2F6AF));
    internal static readonly WideFloat Log2E = new(false, 0, new UInt128(0xB8AA3B295C17F0BB, 0xBE87FED0691D3E88));
    internal static readonly WideFloat HalfPi = new(false, 0, new UInt128(0xC90FDAA22168C234, 0xC4C6628B80DC1CD1));
    internal static readonly WideFloat Pi = new(false, 1, new UInt128(0xC90FDAA22168C234, 0xC4C6628B80DC1CD1));
    internal static readonly WideFloat SixthPi = new(false, -1, new UInt128(0x860A91C16B9B2C23, 0x2DD99707AB3D688B));
    internal static readonly WideFloat Sqrt3 = new(false, 0, new UInt128(0xDDB3D742C265539D, 0x92BA16B83C5C1DC4));

    public bool IsZero => Sig == 0;

    /// <summary>An exact copy of a finite non-zero x87 value.</summary>
    public static WideFloat From(Float80 a)
    {
        int e = SoftFloat80.Normalize(a, out ulong s);
        return new(a.Sign, e - Float80.Bias, (UInt128)s << 64);
    }

    public static WideFloat FromInt(long v)
    {
        if (v == 0) return default;
        ulong m = v < 0 ? (ulong)-v : (ulong)v;
        return Normalized(v < 0, 127, m);
    }

    /// <summary>value = <paramref name="sig"/> × 2^(exp − 127), normalized.</summary>
    public static WideFloat Normalized(bool sign, int exp, UInt128 sig)
    {
        if (sig == 0) return default;
        int lz = (int)UInt128.LeadingZeroCount(sig);
        return new(sign, exp - lz, sig << lz);
    }

    public WideFloat Negate() => this with { Sign = !Sign };
    public WideFloat Abs() => this with { Sign = false };
    public WideFloat Scale(int n) => IsZero ? this : this with { Exp = Exp + n };

    public static WideFloat operator *(WideFloat a, WideFloat b)
    {
        if (a.IsZero || b.IsZero) return default;
        ulong a1 = (ulong)(a.Sig >> 64), a0 = (ulong)a.Sig, b1 = (ulong)(b.Sig >> 64), b0 = (ulong)b.Sig;
        UInt128 p00 = (UInt128)a0 * b0, p01 = (UInt128)a0 * b1, p10 = (UInt128)a1 * b0, p11 = (UInt128)a1 * b1;
        UInt128 mid = (p00 >> 64) + (ulong)p01 + (ulong)p10;
        UInt128 hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
        int exp = a.Exp + b.Exp + 1;
        if ((hi >> 127) == 0)
        {
            hi = (hi << 1) | (((ulong)mid) >> 63);
            exp--;
        }
        return new(a.Sign ^ b.Sign, exp, hi);
    }

    public static WideFloat operator -(WideFloat a, WideFloat b) => a + b.Negate();

    public static WideFloat operator +(WideFloat a, WideFloat b)
    {
        if (b.IsZero) return a;
        if (a.IsZero) return b;
        if (a.Exp < b.Exp || (a.Exp == b.Exp && a.Sig < b.Sig)) (a, b) = (b, a);
        int d = a.Exp - b.Exp;
        // A smaller operand shifted out entirely still moves the result by one unit, so a directed rounding of
        // the final result sees which side of a representable value the exact one lies.
        UInt128 sb = d >= 128 ? 1 : b.Sig >> d;
        if (a.Sign == b.Sign)
        {
            UInt128 s = a.Sig + sb;
            if (s < a.Sig) return new(a.Sign, a.Exp + 1, (s >> 1) | ((UInt128)1 << 127));
            return new(a.Sign, a.Exp, s);
        }
        return Normalized(a.Sign, a.Exp, a.Sig - sb);
    }

    /// <summary>Division by a small positive integer.</summary>
    public WideFloat Div(uint k)
    {
        if (IsZero) return this;
        UInt128 q = Sig / k, r = Sig % k;
        int lz = (int)UInt128.LeadingZeroCount(q);
        q = (q << lz) | ((r << lz) / k);
        return new(Sign, Exp - lz, q);
    }

    /// <summary>a / b by a Newton reciprocal (double estimate, two refinements) and one remainder correction.</summary>
    public static WideFloat operator /(WideFloat a, WideFloat b)
    {
        if (a.IsZero) return a;
        double top = (double)(ulong)(b.Sig >> 64) / 9223372036854775808.0; // in [1, 2)
        double est = 1 / top;
        var y = Normalized(false, 127 - b.Exp - 52, (UInt128)(ulong)(est * 4503599627370496.0));
        var bb = b.Abs();
        var two = One.Scale(1);
        y *= two - bb * y;
        y *= two - bb * y;
        var q = a.Abs() * y;
        q += (a.Abs() - bb * q) * y;
        return q with { Sign = a.Sign ^ b.Sign };
    }

    /// <summary>Rounds to an x87 register value with the control word's rounding (precision control does not apply);
    /// always inexact (PE), as the x87 reports for every computed transcendental result.</summary>
    public Float80 Round(ushort cw, ref X87Flags f)
    {
        if (IsZero) return SoftFloat80.Pack(Sign, 0, 0);
        return SoftFloat80.RoundPack(Sign, Exp + Float80.Bias, (ulong)(Sig >> 64), (ulong)Sig, 64, cw, ref f, true);
    }
}
