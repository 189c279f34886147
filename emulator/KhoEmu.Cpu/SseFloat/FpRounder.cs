using System.Numerics;

namespace KhoEmu.Cpu.SseFloat;

/// <summary>
/// Rounds an exact value to a binary format under MXCSR, with the post-computation exceptions (Intel SDM vol. 1,
/// 4.9.1.4-4.9.1.6 and 11.5.2.4-11.5.2.6). The value is (-1)^sign * (m + f) * 2^e where f is 0 without
/// <c>sticky</c> and some fraction strictly between 0 and 1 with it (the bits the exact computation dropped).
/// <list type="bullet">
/// <item>Overflow: the result rounded with unbounded exponent is at least 2^(Emax+1). Masked: OE and PE, and the
/// result of table 4-10 (infinity or the largest finite number by RC and sign). Unmasked: OE (PE if inexact).</item>
/// <item>Underflow: tininess is detected after rounding (the result rounded to p bits with unbounded exponent is
/// below 2^Emin, 4.9.1.5). Unmasked: UE whenever tiny (PE if inexact). Masked: UE and PE only if also inexact
/// (11.5.2.5); with MXCSR.FTZ a tiny result is a zero of the true sign and sets UE and PE (10.2.3.3).</item>
/// <item>Otherwise PE when the result differs from the exact value.</item>
/// </list>
/// With an unmasked post-computation exception the returned value is never written (the caller faults).
/// </summary>
internal static class FpRounder
{
    /// <summary>The working width: the significand is normalised to this many bits before rounding.</summary>
    private const int Width = 62;

    public static ulong Round(bool sign, UInt128 m, int e, bool sticky, in FpFormat f, uint mxcsr, ref uint flags)
    {
        ulong s = sign ? f.SignMask : 0;
        if (m == 0) return s; // only exact zeros reach here (callers give a zero the sign rules first)
        int n = 128 - (int)UInt128.LeadingZeroCount(m);
        ulong w;
        if (n > Width)
        {
            int sh = n - Width;
            sticky |= (m & ((UInt128.One << sh) - 1)) != 0;
            w = (ulong)(m >> sh);
            e += sh;
        }
        else
        {
            w = (ulong)m << (Width - n);
            e -= Width - n;
        }
        // w has exactly Width bits: the value is in [2^x, 2^(x+1)) with x = e + Width - 1.
        int x = e + Width - 1;
        var rc = MxcsrBits.Rounding(mxcsr);
        uint unmasked = MxcsrBits.Unmasked(mxcsr);
        int p = f.Precision;

        // Tininess after rounding: round to p bits with an unbounded exponent and compare with 2^Emin.
        bool tiny = false;
        if (x < f.Emin)
        {
            ulong r0 = Shift(w, Width - p, sticky, rc, sign, out _);
            tiny = !(x == f.Emin - 1 && r0 >> p != 0);
        }
        int q = Math.Max(x, f.Emin) - (p - 1); // the exponent of the result's last place
        ulong r = Shift(w, q - e, sticky, rc, sign, out bool inexact);
        if (r >> p != 0) { r >>= 1; q++; }

        if (r != 0 && q + (63 - BitOperations.LeadingZeroCount(r)) > f.Emax)
        {
            flags |= MxcsrBits.OE;
            if ((unmasked & MxcsrBits.OE) != 0) { if (inexact) flags |= MxcsrBits.PE; return s; }
            flags |= MxcsrBits.PE;
            bool toInf = rc == RoundingMode.Nearest || (rc == RoundingMode.Up && !sign) || (rc == RoundingMode.Down && sign);
            return s | (toInf ? f.ExpMask : f.MaxFinite);
        }
        if (tiny)
        {
            if ((unmasked & MxcsrBits.UE) != 0)
            {
                flags |= MxcsrBits.UE | (inexact ? MxcsrBits.PE : 0);
                return s;
            }
            if ((mxcsr & MxcsrBits.Ftz) != 0) { flags |= MxcsrBits.UE | MxcsrBits.PE; return s; }
            if (inexact) flags |= MxcsrBits.UE;
        }
        if (inexact) flags |= MxcsrBits.PE;
        if (r >= f.Hidden) return s | ((ulong)(q + p - 1 + f.Bias) << (p - 1)) | (r & f.FracMask);
        return s | r; // denormal or zero: q is Emin - (p - 1)
    }

    /// <summary>w / 2^shift rounded to an integer by <paramref name="rc"/>; shift may exceed 63.</summary>
    internal static ulong Shift(ulong w, int shift, bool sticky, RoundingMode rc, bool sign, out bool inexact)
    {
        ulong r;
        bool up;
        if (shift <= 0)
        {
            // Callers keep at least two extra bits, so a sticky remainder never meets an exact integer here.
            inexact = sticky;
            return w << -shift;
        }
        if (shift >= 64)
        {
            r = 0;
            inexact = w != 0 || sticky;
            up = rc == RoundingMode.Nearest ? shift == 64 && (w > 1UL << 63 || (w == 1UL << 63 && sticky)) : Away(rc, sign) && inexact;
        }
        else
        {
            r = w >> shift;
            ulong rem = w & ((1UL << shift) - 1), half = 1UL << (shift - 1);
            inexact = rem != 0 || sticky;
            up = rc == RoundingMode.Nearest
                ? rem > half || (rem == half && (sticky || (r & 1) != 0))
                : Away(rc, sign) && inexact;
        }
        return up ? r + 1 : r;
    }

    private static bool Away(RoundingMode rc, bool sign) =>
        (rc == RoundingMode.Up && !sign) || (rc == RoundingMode.Down && sign);
}
