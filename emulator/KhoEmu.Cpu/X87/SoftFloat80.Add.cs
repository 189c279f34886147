namespace KhoEmu.Cpu.X87;

public static partial class SoftFloat80
{
    public static Float80 Add(Float80 a, Float80 b, ushort cw, ref X87Flags f) => AddSigned(a, b, false, cw, ref f);

    /// <summary>FSUB: <paramref name="a"/> − <paramref name="b"/> (FSUBR is the caller swapping the operands).</summary>
    public static Float80 Sub(Float80 a, Float80 b, ushort cw, ref X87Flags f) => AddSigned(a, b, true, cw, ref f);

    private static Float80 AddSigned(Float80 a, Float80 b, bool negateB, ushort cw, ref X87Flags f)
    {
        f.RoundedUp = false;
        if (IsUnsupported(a) || IsUnsupported(b)) return InvalidResult(ref f);
        if (IsNaN(a) || IsNaN(b)) return PropagateNaN(a, b, ref f);
        bool signA = a.Sign, signB = b.Sign ^ negateB;
        int rc = RoundingControl(cw);
        bool infA = IsInfinity(a), infB = IsInfinity(b);
        if (infA && infB && signA != signB) return InvalidResult(ref f);
        if (DenormalStops(a, b, cw, ref f)) return a;
        if (infA) return a;
        if (infB) return Pack(signB, MaxExponent, IntegerBit);
        int precision = PrecisionBits(cw);
        bool zeroA = IsZero(a), zeroB = IsZero(b);
        if (zeroA && zeroB)
            return Pack(signA == signB ? signA : rc == RoundDown, 0, 0);
        if (zeroB)
        {
            int e = Normalize(a, out ulong s);
            return RoundPack(signA, e, s, 0, precision, cw, ref f);
        }
        if (zeroA)
        {
            int e = Normalize(b, out ulong s);
            return RoundPack(signB, e, s, 0, precision, cw, ref f);
        }
        int expA = Normalize(a, out ulong sigA);
        int expB = Normalize(b, out ulong sigB);
        if (expA < expB || (expA == expB && sigA < sigB))
        {
            (expA, expB) = (expB, expA);
            (sigA, sigB) = (sigB, sigA);
            (signA, signB) = (signB, signA);
        }
        // Both significands in bits 126..63 of 128 (bit 127 takes the carry); the smaller one shifted with sticky.
        UInt128 wa = (UInt128)sigA << 63;
        UInt128 wb = (UInt128)sigB << 63;
        int diff = expA - expB;
        if (diff >= 127) wb = 1;
        else if (diff > 0)
        {
            bool lost = (wb & (((UInt128)1 << diff) - 1)) != 0;
            wb = (wb >> diff) | (lost ? UInt128.One : UInt128.Zero);
        }
        UInt128 sum;
        int exp = expA + 1;
        if (signA == signB) sum = wa + wb;
        else
        {
            sum = wa - wb;
            if (sum == 0) return Pack(rc == RoundDown, 0, 0);
        }
        int lz = (int)UInt128.LeadingZeroCount(sum);
        sum <<= lz;
        exp -= lz;
        ulong hi = High(sum, out ulong lo);
        return RoundPack(signA, exp, hi, lo, precision, cw, ref f);
    }
}
