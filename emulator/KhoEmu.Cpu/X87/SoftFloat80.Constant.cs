namespace KhoEmu.Cpu.X87;

public static partial class SoftFloat80
{
    /// <summary>Each constant to 128 bits (bit 127 set; exponent of bit 127, unbiased), from mpmath at 300 bits.</summary>
    private static readonly (int Exponent, ulong High, ulong Low)[] Constants =
    [
        (0, IntegerBit, 0), // 1
        (1, 0xD49A_784B_CD1B_8AFE, 0x492B_F6FF_4DAF_DB4C), // log2(10)
        (0, 0xB8AA_3B29_5C17_F0BB, 0xBE87_FED0_691D_3E88), // log2(e)
        (1, 0xC90F_DAA2_2168_C234, 0xC4C6_628B_80DC_1CD1), // pi
        (-2, 0x9A20_9A84_FBCF_F798, 0x8F89_59AC_0B7C_9178), // log10(2)
        (-1, 0xB172_17F7_D1CF_79AB, 0xC9E3_B398_03F2_F6AF), // ln(2)
    ];

    /// <summary>FLD1 ... FLDZ: the constant rounded to 64 bits with the rounding control (precision control does not
    /// apply; no exception flag is raised, as on hardware).</summary>
    public static Float80 Constant(X87Constant which, ushort cw)
    {
        if (which == X87Constant.Zero) return Float80.Zero;
        (int e, ulong hi, ulong lo) = Constants[(int)which];
        ulong r = RoundBits(false, hi, lo, 0, RoundingControl(cw), out _, out _, out _);
        return Pack(false, e + Float80.Bias, r);
    }
}
