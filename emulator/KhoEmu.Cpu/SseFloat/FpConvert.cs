namespace KhoEmu.Cpu.SseFloat;

/// <summary>
/// The conversions of one lane (Intel SDM vol. 2, CVT*): float to float (CVTSS2SD/CVTSD2SS/CVTPS2PD/CVTPD2PS:
/// IE on an SNaN, whose quieted payload is kept or truncated; DE on a denormal; narrowing rounds with OE/UE/PE),
/// integer to float (CVTSI2SS/SD, CVTDQ2PS/PD: PE when rounded) and float to integer (CVT(T)SS2SI, CVT(T)SD2SI,
/// CVT(T)PS2DQ, CVT(T)PD2DQ: rounded by MXCSR.RC or truncated; a NaN, an infinity or a result out of range signals
/// IE and gives the integer indefinite, the most negative integer; otherwise PE when inexact; no denormal
/// exception, but DAZ applies to the source).
/// </summary>
internal static class FpConvert
{
    public static ulong FloatToFloat(ulong x, in FpFormat from, in FpFormat to, uint mxcsr, ref uint flags)
    {
        if ((mxcsr & MxcsrBits.Daz) != 0) x = from.Daz(x);
        ulong sign = from.Negative(x) ? to.SignMask : 0;
        if (from.IsNaN(x))
        {
            if (from.IsSNaN(x)) flags |= MxcsrBits.IE;
            ulong payload = x & from.FracMask;
            payload = from.Precision > to.Precision ? payload >> (from.Precision - to.Precision) : payload << (to.Precision - from.Precision);
            return sign | to.ExpMask | to.QuietBit | payload;
        }
        if (from.IsInf(x)) return sign | to.ExpMask;
        if (from.IsZero(x)) return sign;
        if (from.IsDenormal(x)) flags |= MxcsrBits.DE;
        from.Unpack(x, out ulong m, out int e);
        return FpRounder.Round(sign != 0, m, e, false, to, mxcsr, ref flags);
    }

    public static ulong IntToFloat(long v, in FpFormat to, uint mxcsr, ref uint flags)
    {
        if (v == 0) return 0;
        ulong mag = v < 0 ? (ulong)-(v + 1) + 1 : (ulong)v;
        return FpRounder.Round(v < 0, mag, 0, false, to, mxcsr, ref flags);
    }

    /// <summary>x to a signed integer of <paramref name="bits"/> (32 or 64) bits, as its two's complement bits.</summary>
    public static ulong FloatToInt(ulong x, in FpFormat from, int bits, bool truncate, uint mxcsr, ref uint flags)
    {
        ulong indefinite = 1UL << (bits - 1);
        if ((mxcsr & MxcsrBits.Daz) != 0) x = from.Daz(x);
        if (from.IsNaN(x) || from.IsInf(x)) { flags |= MxcsrBits.IE; return indefinite; }
        if (from.IsZero(x)) return 0;
        bool neg = from.Negative(x);
        from.Unpack(x, out ulong m, out int e);
        ulong mag;
        bool inexact = false;
        if (e >= 0)
        {
            if (e > 63 - from.Precision + 1) { flags |= MxcsrBits.IE; return indefinite; }
            mag = m << e;
        }
        else
        {
            var rc = truncate ? RoundingMode.TowardZero : MxcsrBits.Rounding(mxcsr);
            mag = FpRounder.Shift(m, -e, false, rc, neg, out inexact);
        }
        // In range: -2^(bits-1) <= value <= 2^(bits-1) - 1.
        if (neg ? mag > indefinite : mag >= indefinite) { flags |= MxcsrBits.IE; return indefinite; }
        if (inexact) flags |= MxcsrBits.PE;
        ulong r = neg ? (ulong)-(long)mag : mag;
        return bits == 64 ? r : r & 0xFFFF_FFFF;
    }
}
