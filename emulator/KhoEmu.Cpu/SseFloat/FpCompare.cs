namespace KhoEmu.Cpu.SseFloat;

/// <summary>
/// Comparisons of one lane (Intel SDM vol. 2, CMPPS/CMPSS/CMPPD/CMPSD with predicates 0-7, COMISS/COMISD,
/// UCOMISS/UCOMISD). DAZ applies to both operands. An SNaN operand always signals IE; a QNaN operand signals IE for
/// the signalling predicates LT, LE, NLT, NLE and for COMIS*, not for EQ, UNORD, NEQ, ORD or UCOMIS*. A denormal
/// operand of an ordered comparison signals DE.
/// </summary>
internal static class FpCompare
{
    /// <summary>The relation of a to b: -1 less, 0 equal, 1 greater, 2 unordered.</summary>
    public static int Relation(ulong a, ulong b, in FpFormat f, bool signalQuiet, uint mxcsr, ref uint flags)
    {
        if ((mxcsr & MxcsrBits.Daz) != 0) { a = f.Daz(a); b = f.Daz(b); }
        if (f.IsNaN(a) || f.IsNaN(b))
        {
            if (signalQuiet || f.IsSNaN(a) || f.IsSNaN(b)) flags |= MxcsrBits.IE;
            return 2;
        }
        if (f.IsDenormal(a) || f.IsDenormal(b)) flags |= MxcsrBits.DE;
        double x = ToDouble(a, f), y = ToDouble(b, f);
        return x < y ? -1 : x > y ? 1 : 0;
    }

    /// <summary>CMPxx predicate <paramref name="imm"/> (0-7) of a and b.</summary>
    public static bool Predicate(int imm, ulong a, ulong b, in FpFormat f, uint mxcsr, ref uint flags)
    {
        int p = imm & 7;
        int rel = Relation(a, b, f, p is 1 or 2 or 5 or 6, mxcsr, ref flags);
        return p switch
        {
            0 => rel == 0,
            1 => rel == -1,
            2 => rel is -1 or 0,
            3 => rel == 2,
            4 => rel != 0,
            5 => rel != -1,
            6 => rel is 1 or 2,
            _ => rel != 2,
        };
    }

    private static double ToDouble(ulong x, in FpFormat f) =>
        f.Precision == 24 ? BitConverter.UInt32BitsToSingle((uint)x) : BitConverter.UInt64BitsToDouble(x);
}
