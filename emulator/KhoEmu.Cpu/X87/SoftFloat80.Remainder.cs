namespace KhoEmu.Cpu.X87;

public static partial class SoftFloat80
{
    /// <summary>
    /// FPREM (<paramref name="ieee"/> false, truncating quotient) or FPREM1 (round-to-nearest quotient): one partial
    /// remainder step of <paramref name="a"/> by <paramref name="b"/>. <paramref name="quotientLow"/> holds the low
    /// three quotient bits (C0 = bit 2, C3 = bit 1, C1 = bit 0); <paramref name="incomplete"/> is C2.
    /// </summary>
    /// <remarks>
    /// With an exponent difference D ≥ 64 the step is partial (SDM vol. 2 FPREM): the quotient is truncated at
    /// 2^(D−N) with N = 32 + D mod 32 and C2 is set. The remainder is exact (never inexact); precision control
    /// does not apply. A dividend returned as the remainder goes through the
    /// underflow rules like any result (a pseudo-denormal comes back with exponent 1, an unmasked underflow
    /// bias-adjusts a denormal).
    /// </remarks>
    public static Float80 PartialRemainder(Float80 a, Float80 b, bool ieee, ushort cw, ref X87Flags f,
        out int quotientLow, out bool incomplete)
    {
        f.RoundedUp = false;
        quotientLow = 0;
        incomplete = false;
        if (IsUnsupported(a) || IsUnsupported(b)) return InvalidResult(ref f);
        if (IsNaN(a) || IsNaN(b)) return PropagateNaN(a, b, ref f);
        if (IsInfinity(a) || IsZero(b)) return InvalidResult(ref f);
        if (DenormalStops(a, b, cw, ref f)) return a;
        if (IsZero(a)) return a;
        int ea = Normalize(a, out ulong sa);
        if (IsInfinity(b)) return RoundPack(a.Sign, ea, sa, 0, 64, cw, ref f);
        int eb = Normalize(b, out ulong sb);
        int d = ea - eb;
        bool sign = a.Sign;
        if (d < -1 || (d == -1 && (!ieee || sa <= sb)))
            return RoundPack(sign, ea, sa, 0, 64, cw, ref f);
        if (d == -1)
        {
            // FPREM1 with |a| in (|b|/2, |b|): quotient 1, remainder |b| − |a| with the opposite sign.
            UInt128 diff = ((UInt128)sb << 1) - sa;
            quotientLow = 1;
            return PackRemainder(!sign, eb - 1, diff, cw, ref f);
        }
        int shift = d;
        if (d >= 64)
        {
            shift = 32 + d % 32;
            incomplete = true;
        }
        UInt128 num = (UInt128)sa << shift;
        UInt128 q = num / sb;
        ulong r = (ulong)(num - q * sb);
        int unitExp = eb + (d - shift); // exponent of b's significand scaled by 2^(D−N)
        if (ieee && !incomplete && (r > sb - r || (r == sb - r && (q & 1) != 0)))
        {
            q++;
            r = sb - r;
            sign = !sign;
        }
        quotientLow = incomplete ? 0 : (int)(q & 7); // the host leaves C0, C3, C1 clear on a partial step
        if (r == 0) return Pack(a.Sign, 0, 0);
        return PackRemainder(sign, unitExp, r, cw, ref f);
    }

    /// <summary>An exact non-zero remainder <paramref name="r"/> (below 2^64) in units of 2^(exp − bias − 63),
    /// normalized and packed (a tiny one goes through the underflow rules).</summary>
    private static Float80 PackRemainder(bool sign, int exp, UInt128 r, ushort cw, ref X87Flags f)
    {
        int lz = Lzcnt((ulong)r);
        return RoundPack(sign, exp - lz, (ulong)r << lz, 0, 64, cw, ref f);
    }
}
