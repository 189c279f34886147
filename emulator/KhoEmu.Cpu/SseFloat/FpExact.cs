namespace KhoEmu.Cpu.SseFloat;

/// <summary>
/// The exact path of <see cref="FpArith"/> for one lane, following Intel SDM vol. 1, 11.5.2 and table 4-7:
/// <list type="number">
/// <item>DAZ turns denormal operands into zeros of their sign.</item>
/// <item>NaN operands: IE if one is an SNaN; the result is the first source (destination) operand if it is a NaN,
/// else the second, quieted.</item>
/// <item>Invalid operations (inf - inf, 0 * inf, 0 / 0, inf / inf, the square root of a negative non-zero number):
/// IE and the QNaN real indefinite.</item>
/// <item>Divide by zero (finite non-zero / 0): ZE and a signed infinity, without DE even for a denormal dividend
/// (ZE has the higher priority, 4.9.2; the host agrees). Then a denormal operand: DE (after DAZ none remains).</item>
/// <item>Infinities and zeros give their exact IEEE results (an exact zero sum is +0, or -0 when rounding down).</item>
/// <item>Otherwise the exact value in integers (sum, product, quotient or root with a sticky remainder) is rounded
/// once by <see cref="FpRounder"/>.</item>
/// </list>
/// For SQRT only <c>b</c> (the source) is an operand.
/// </summary>
internal static class FpExact
{
    public static ulong Compute(FpOp op, ulong a, ulong b, in FpFormat f, uint mxcsr, ref uint flags)
    {
        bool unary = op == FpOp.Sqrt;
        if ((mxcsr & MxcsrBits.Daz) != 0) { a = f.Daz(a); b = f.Daz(b); }
        bool nanA = !unary && f.IsNaN(a), nanB = f.IsNaN(b);
        if (nanA || nanB)
        {
            if ((nanA && f.IsSNaN(a)) || (nanB && f.IsSNaN(b))) flags |= MxcsrBits.IE;
            return (nanA ? a : b) | f.QuietBit;
        }
        bool sa = f.Negative(a), sb = f.Negative(b);
        if (op == FpOp.Sub) { sb = !sb; b ^= f.SignMask; }
        bool infA = !unary && f.IsInf(a), infB = f.IsInf(b), zeroA = !unary && f.IsZero(a), zeroB = f.IsZero(b);
        bool invalid = op switch
        {
            FpOp.Add or FpOp.Sub => infA && infB && sa != sb,
            FpOp.Mul => (infA && zeroB) || (zeroA && infB),
            FpOp.Div => (zeroA && zeroB) || (infA && infB),
            _ => sb && !zeroB,
        };
        if (invalid) { flags |= MxcsrBits.IE; return f.Indefinite; }
        ulong prodSign = sa != sb ? f.SignMask : 0;
        // Divide by zero outranks the denormal operand (SDM vol. 1, 4.9.2): a denormal / 0 signals ZE alone.
        if (op == FpOp.Div && zeroB && !infA) { flags |= MxcsrBits.ZE; return prodSign | f.ExpMask; }
        if ((!unary && f.IsDenormal(a)) || f.IsDenormal(b)) flags |= MxcsrBits.DE;
        bool rd = MxcsrBits.Rounding(mxcsr) == RoundingMode.Down;
        switch (op)
        {
            case FpOp.Add:
            case FpOp.Sub:
                if (infA) return a;
                if (infB) return b;
                if (zeroA && zeroB) return sa == sb ? a : rd ? f.SignMask : 0;
                if (zeroA) return Exact(b, f, mxcsr, ref flags);
                if (zeroB) return Exact(a, f, mxcsr, ref flags);
                return Sum(a, b, f, mxcsr, ref flags);
            case FpOp.Mul:
                if (infA || infB) return prodSign | f.ExpMask;
                if (zeroA || zeroB) return prodSign;
                f.Unpack(a, out ulong ma, out int ea);
                f.Unpack(b, out ulong mb, out int eb);
                return FpRounder.Round(prodSign != 0, (UInt128)ma * mb, ea + eb, false, f, mxcsr, ref flags);
            case FpOp.Div:
                if (infA) return prodSign | f.ExpMask;
                if (infB || zeroA) return prodSign;
                return Quotient(prodSign != 0, a, b, f, mxcsr, ref flags);
            default:
                if (infB || zeroB) return b;
                return Root(b, f, mxcsr, ref flags);
        }
    }

    private static ulong Sum(ulong a, ulong b, in FpFormat f, uint mxcsr, ref uint flags)
    {
        f.Unpack(a, out ulong ma, out int ea);
        f.Unpack(b, out ulong mb, out int eb);
        bool sa = f.Negative(a), sb = f.Negative(b);
        if (ea < eb || (ea == eb && ma < mb)) { (ma, mb, ea, eb, sa, sb) = (mb, ma, eb, ea, sb, sa); }
        // |a| >= |b| only by exponent here; align a onto b's last place, or far below a's with a sticky stand-in.
        int d = ea - eb;
        bool sticky = false;
        UInt128 big, small = mb;
        const int Far = 70;
        if (d > Far)
        {
            big = (UInt128)ma << Far;
            eb = ea - Far;
            small = 0;
            sticky = true;
        }
        else big = (UInt128)ma << d;
        if (sa == sb) return FpRounder.Round(sa, big + small, eb, sticky, f, mxcsr, ref flags);
        if (sticky) return FpRounder.Round(sa, big - 1, eb, true, f, mxcsr, ref flags);
        if (big == small) return MxcsrBits.Rounding(mxcsr) == RoundingMode.Down ? f.SignMask : 0;
        return big > small
            ? FpRounder.Round(sa, big - small, eb, false, f, mxcsr, ref flags)
            : FpRounder.Round(sb, small - big, eb, false, f, mxcsr, ref flags);
    }

    private static ulong Quotient(bool sign, ulong a, ulong b, in FpFormat f, uint mxcsr, ref uint flags)
    {
        Normalised(a, f, out ulong ma, out int ea);
        Normalised(b, f, out ulong mb, out int eb);
        UInt128 n = (UInt128)ma << 64;
        UInt128 q = n / mb;
        return FpRounder.Round(sign, q, ea - eb - 64, n - q * mb != 0, f, mxcsr, ref flags);
    }

    private static ulong Root(ulong b, in FpFormat f, uint mxcsr, ref uint flags)
    {
        Normalised(b, f, out ulong m, out int e);
        // m has 53 or 24 bits; scale to 122-123 bits with an even exponent so the root has about 61 bits.
        int shift = 122 - (64 - System.Numerics.BitOperations.LeadingZeroCount(m));
        if (((e - shift) & 1) != 0) shift++;
        UInt128 v = (UInt128)m << shift;
        UInt128 r = (UInt128)Math.Sqrt((double)v);
        r = (r + v / r) >> 1;
        while (r * r > v) r--;
        while ((r + 1) * (r + 1) <= v) r++;
        return FpRounder.Round(false, r, (e - shift) / 2, r * r != v, f, mxcsr, ref flags);
    }

    /// <summary>A finite non-zero result that is exact: only tininess (a denormal) can signal.</summary>
    internal static ulong Exact(ulong x, in FpFormat f, uint mxcsr, ref uint flags)
    {
        if (!f.IsDenormal(x)) return x;
        f.Unpack(x, out ulong m, out int e);
        return FpRounder.Round(f.Negative(x), m, e, false, f, mxcsr, ref flags);
    }

    /// <summary>Finite non-zero x as m * 2^e with m's top bit at the format's hidden-bit position.</summary>
    private static void Normalised(ulong x, in FpFormat f, out ulong m, out int e)
    {
        f.Unpack(x, out m, out e);
        int sh = System.Numerics.BitOperations.LeadingZeroCount(m) - (64 - f.Precision);
        m <<= sh;
        e -= sh;
    }
}
