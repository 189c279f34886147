namespace KhoEmu.Cpu.X87;

public static partial class SoftFloat80
{
    /// <summary>1/k for k = 0 .. 71 (entry 0 unused), so the series multiply instead of dividing.</summary>
    private static readonly WideFloat[] Reciprocals = Enumerable.Range(0, 72)
        .Select(k => k == 0 ? default : WideFloat.One.Div((uint)k)).ToArray();

    /// <summary>e^t − 1 for |t| ≤ ln 2: Taylor series of t/256, then eight doublings e(2u) = e(u)(e(u) + 2).</summary>
    internal static WideFloat Expm1(WideFloat t)
    {
        WideFloat u = t.Scale(-8);
        WideFloat p = WideFloat.One;
        for (int k = 16; k >= 2; k--) p = WideFloat.One + u * p * Reciprocals[k];
        WideFloat e = u * p;
        WideFloat two = WideFloat.One.Scale(1);
        for (int i = 0; i < 8; i++) e *= e + two;
        return e;
    }

    /// <summary>2 atanh(s) = ln((1 + s)/(1 − s)) for |s| ≤ 0.172 (26 odd terms).</summary>
    internal static WideFloat TwoAtanh(WideFloat s)
    {
        WideFloat s2 = s * s;
        WideFloat p = Reciprocals[53];
        for (int k = 25; k >= 0; k--) p = Reciprocals[2 * k + 1] + s2 * p;
        return (s * p).Scale(1);
    }

    /// <summary>log2 of a finite positive value: e + ln(m)/ln 2 with m in [√½, √2].</summary>
    internal static WideFloat Log2(WideFloat x)
    {
        // x = Sig × 2^(Exp − 127): m = Sig × 2^−127 in [1, 2)
        int e = x.Exp;
        WideFloat m = x with { Exp = 0 };
        if (m.Sig > new UInt128(0xB504F333F9DE6484, 0x597D89B3754ABE9F)) // √2
        {
            m = m.Scale(-1);
            e++;
        }
        WideFloat s = (m - WideFloat.One) / (m + WideFloat.One);
        return WideFloat.FromInt(e) + TwoAtanh(s) * WideFloat.Log2E;
    }

    /// <summary>log2(1 + x) for x > −1, keeping the relative precision of a small x.</summary>
    internal static WideFloat Log2OnePlus(WideFloat x)
    {
        if (x.Exp >= -2) return Log2(WideFloat.One + x);
        return TwoAtanh(x / (WideFloat.One.Scale(1) + x)) * WideFloat.Log2E;
    }

    /// <summary>arctan z for 0 ≤ z ≤ 1: z above 2 − √3 is reduced by π/6 (atan z = π/6 + atan((z√3 − 1)/(z + √3))).</summary>
    internal static WideFloat Atan(WideFloat z)
    {
        WideFloat offset = default;
        if (z.Exp >= -1 || (z.Exp == -2 && z.Sig > new UInt128(0x8930A2F4F66AB189, 0xB517A51F0E8F88ED))) // 2 − √3
        {
            z = (z * WideFloat.Sqrt3 - WideFloat.One) / (z + WideFloat.Sqrt3);
            offset = WideFloat.SixthPi;
        }
        WideFloat z2 = z * z;
        WideFloat p = Reciprocals[71];
        for (int k = 34; k >= 0; k--) p = Reciprocals[2 * k + 1] - z2 * p;
        return offset + z * p;
    }

    /// <summary>1/((2n)(2n+1)) and 1/((2n−1)(2n)) for n = 0 .. 17: the ratios of successive sine and cosine terms.</summary>
    private static readonly WideFloat[] SineRatios = Enumerable.Range(0, 18)
        .Select(n => n == 0 ? default : WideFloat.One.Div((uint)(2 * n * (2 * n + 1)))).ToArray();
    private static readonly WideFloat[] CosineRatios = Enumerable.Range(0, 18)
        .Select(n => n == 0 ? default : WideFloat.One.Div((uint)((2 * n - 1) * 2 * n))).ToArray();

    /// <summary>sin r (<paramref name="cosine"/> false) or cos r for |r| ≤ π/4 (17 terms).</summary>
    internal static WideFloat SinCosSeries(WideFloat r, bool cosine)
    {
        WideFloat r2 = r * r;
        WideFloat p = WideFloat.One;
        WideFloat[] ratios = cosine ? CosineRatios : SineRatios;
        for (int n = 17; n >= 1; n--) p = WideFloat.One - r2 * p * ratios[n];
        return cosine ? p : r * p;
    }

    /// <summary>2/π to 320 bits, most significant word first, for the argument reduction.</summary>
    private static readonly ulong[] TwoOverPi =
        [0xA2F9836E4E441529, 0xFC2757D1F534DDC0, 0xDB6295993C439041, 0xFE5163ABDEBBC561, 0xB7246E3A424DD2E0];

    /// <summary>
    /// |a| = k·π₆₈/2 + r for finite |a| &lt; 2^63, with k the nearest integer to |a|·2/π (formed from 320 bits of
    /// 2/π, a 384-bit product) and r exact with respect to the x87's 68-bit π.
    /// </summary>
    internal static WideFloat Reduce(Float80 a, out int quadrant)
    {
        WideFloat x = WideFloat.From(a).Abs();
        quadrant = 0;
        if (x.Exp < -1 || (x.Exp == -1 && x.Sig <= new UInt128(0xC90FDAA22168C234, 0xC4C6628B80DC1CD1))) return x;
        int e = Normalize(a, out ulong s) - Float80.Bias; // |a| = s × 2^(e − 63), −1 ≤ e ≤ 62
        Span<ulong> p = stackalloc ulong[6]; // little-endian words of s × TwoOverPi
        ulong carry = 0;
        for (int i = 0; i < 5; i++)
        {
            UInt128 t = (UInt128)s * TwoOverPi[4 - i] + carry;
            p[i] = (ulong)t;
            carry = (ulong)(t >> 64);
        }
        p[5] = carry;
        // |a|·2/π = P × 2^(e − 63 − 320): the binary point sits fracBits above bit 0 of P.
        int fracBits = 383 - e;
        ulong k = Bits(p, fracBits);
        ulong f2 = Bits(p, fracBits - 64), f1 = Bits(p, fracBits - 128), f0 = Bits(p, fracBits - 192);
        bool negative = false;
        if ((f2 >> 63) != 0)
        {
            // round the quotient to nearest: the remainder is 1 − fraction, negative
            k++;
            negative = true;
            f0 = ~f0; f1 = ~f1; f2 = ~f2;
            if (++f0 == 0 && ++f1 == 0) f2++;
        }
        _ = negative;
        quadrant = (int)(k & 3);
        // r = |a| − k·π₆₈/2 exactly, in units of 2^−67 (|r| < 2^67, so arithmetic mod 2^128 is exact).
        UInt128 xs = (UInt128)s << (e + 4);
        Int128 rem = (Int128)(xs - (UInt128)k * HardwarePi);
        bool neg = rem < 0;
        return WideFloat.Normalized(neg, 127 - 67, (UInt128)(neg ? -rem : rem));
    }

    /// <summary>
    /// The π the x87 reduces with: π to 68 bits (0xC90FDAA22168C234C × 2^−66), so that π₆₈/2 = HardwarePi × 2^−67.
    /// Measured: the host's FSIN/FCOS/FPTAN/FSINCOS results for large arguments match a reduction by this value, not
    /// by the true π (as Intel documents for its x87, SDM vol. 1 §8.3.10).
    /// </summary>
    private static readonly UInt128 HardwarePi = new(0xC, 0x90FDAA22168C234C);

    /// <summary>The 64 bits of the little-endian word array starting at bit <paramref name="offset"/> (zeros outside).</summary>
    private static ulong Bits(ReadOnlySpan<ulong> words, int offset)
    {
        int w = offset >> 6, b = offset & 63;
        if (offset < 0) return offset <= -64 ? 0 : Word(words, 0) << -offset;
        return b == 0 ? Word(words, w) : (Word(words, w) >> b) | (Word(words, w + 1) << (64 - b));
    }

    private static ulong Word(ReadOnlySpan<ulong> words, int i) => i >= 0 && i < words.Length ? words[i] : 0;
}
