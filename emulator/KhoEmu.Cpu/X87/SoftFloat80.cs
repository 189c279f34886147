namespace KhoEmu.Cpu.X87;

/// <summary>
/// Software 80-bit extended-precision arithmetic with the x87's exact results: rounding control (CW bits 10-11),
/// precision control (CW bits 8-9, which applies to add, subtract, multiply, divide and square root only), exception
/// masks (CW bits 0-5), denormal and pseudo-denormal operands, unsupported encodings (invalid operands), NaN
/// propagation and the real indefinite. <c>cw</c> is always the x87 control word.
/// </summary>
public static partial class SoftFloat80
{
    public static Float80 Add(Float80 a, Float80 b, ushort cw, ref X87Flags f) => throw Pending();
    public static Float80 Sub(Float80 a, Float80 b, ushort cw, ref X87Flags f) => throw Pending();
    public static Float80 Mul(Float80 a, Float80 b, ushort cw, ref X87Flags f) => throw Pending();
    public static Float80 Div(Float80 a, Float80 b, ushort cw, ref X87Flags f) => throw Pending();
    public static Float80 Sqrt(Float80 a, ushort cw, ref X87Flags f) => throw Pending();

    /// <summary>FCOM/FCOMI (<paramref name="quiet"/> false: any NaN is invalid) or FUCOM/FUCOMI (only SNaNs are).</summary>
    public static X87Ordering Compare(Float80 a, Float80 b, bool quiet, ref X87Flags f) => throw Pending();

    /// <summary>FRNDINT.</summary>
    public static Float80 RoundToInteger(Float80 a, ushort cw, ref X87Flags f) => throw Pending();
    /// <summary>FSCALE: <paramref name="a"/> × 2^trunc(<paramref name="b"/>).</summary>
    public static Float80 Scale(Float80 a, Float80 b, ushort cw, ref X87Flags f) => throw Pending();
    /// <summary>FXTRACT: the unbiased exponent and the significand (scaled into [1, 2)) of <paramref name="a"/>.</summary>
    public static void Extract(Float80 a, ushort cw, ref X87Flags f, out Float80 exponent, out Float80 significand) => throw Pending();
    /// <summary>
    /// FPREM (<paramref name="ieee"/> false, truncating quotient) or FPREM1 (round-to-nearest quotient): one partial
    /// remainder step of <paramref name="a"/> by <paramref name="b"/>. <paramref name="quotientLow"/> holds the low
    /// three quotient bits (C0 = bit 2, C3 = bit 1, C1 = bit 0); <paramref name="incomplete"/> is C2.
    /// </summary>
    public static Float80 PartialRemainder(Float80 a, Float80 b, bool ieee, ushort cw, ref X87Flags f,
        out int quotientLow, out bool incomplete) => throw Pending();
    /// <summary>FXAM's class of a non-empty register.</summary>
    public static X87Class Examine(Float80 a) => throw Pending();

    // ---- conversions (loads are exact except for SNaN quieting; stores round with the control word) ----------------
    public static Float80 FromInt64(long v) => throw Pending();
    public static Float80 FromSingle(uint bits, ref X87Flags f) => throw Pending();
    public static Float80 FromDouble(ulong bits, ref X87Flags f) => throw Pending();
    public static uint ToSingle(Float80 a, ushort cw, ref X87Flags f) => throw Pending();
    public static ulong ToDouble(Float80 a, ushort cw, ref X87Flags f) => throw Pending();
    /// <summary>FIST/FISTP (<paramref name="truncate"/> false: rounding control) and FISTTP (true) to a
    /// <paramref name="bits"/>-bit integer (16, 32, 64); out of range or NaN gives the integer indefinite.</summary>
    public static long ToInt(Float80 a, int bits, bool truncate, ushort cw, ref X87Flags f) => throw Pending();
    /// <summary>FBLD: 10-byte packed BCD (18 digits, sign in bit 79).</summary>
    public static Float80 FromBcd(ReadOnlySpan<byte> bcd) => throw Pending();
    /// <summary>FBSTP: rounds to an integer with the control word; out of range or NaN stores the BCD indefinite.</summary>
    public static void ToBcd(Float80 a, ushort cw, ref X87Flags f, Span<byte> bcd) => throw Pending();
    /// <summary>FLD1 ... FLDZ, whose last bit follows the rounding control as on hardware.</summary>
    public static Float80 Constant(X87Constant which, ushort cw) => throw Pending();

    // ---- transcendentals (accuracy bound documented in docs/cpu.md) -----------------------------------------------
    public static Float80 F2xm1(Float80 a, ushort cw, ref X87Flags f) => throw Pending();
    /// <summary>FYL2X: <paramref name="y"/> × log2(<paramref name="x"/>).</summary>
    public static Float80 Fyl2x(Float80 x, Float80 y, ushort cw, ref X87Flags f) => throw Pending();
    /// <summary>FYL2XP1: <paramref name="y"/> × log2(<paramref name="x"/> + 1).</summary>
    public static Float80 Fyl2xp1(Float80 x, Float80 y, ushort cw, ref X87Flags f) => throw Pending();
    /// <summary>FPATAN: arctan(<paramref name="y"/> / <paramref name="x"/>) with the quadrant from both signs.</summary>
    public static Float80 Fpatan(Float80 y, Float80 x, ushort cw, ref X87Flags f) => throw Pending();
    /// <summary>FPTAN, FSIN, FCOS, FSINCOS: <paramref name="outOfRange"/> (C2) when |a| ≥ 2^63; nothing is computed then.</summary>
    public static Float80 Tan(Float80 a, ushort cw, ref X87Flags f, out bool outOfRange) => throw Pending();
    public static Float80 Sin(Float80 a, ushort cw, ref X87Flags f, out bool outOfRange) => throw Pending();
    public static Float80 Cos(Float80 a, ushort cw, ref X87Flags f, out bool outOfRange) => throw Pending();
    public static void SinCos(Float80 a, ushort cw, ref X87Flags f, out Float80 sin, out Float80 cos, out bool outOfRange) => throw Pending();

    private static NotImplementedException Pending() => new("SoftFloat80: this operation is being written");
}
