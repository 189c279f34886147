namespace KhoEmu.Cpu.X87;

/// <summary>
/// An x87 80-bit extended-precision value exactly as it sits in a register or in memory: a 64-bit significand with
/// an explicit integer bit (bit 63) and a sign + 15-bit biased exponent (bias 16383).
/// </summary>
public readonly record struct Float80(ulong Significand, ushort SignExponent)
{
    public const int Bias = 16383;
    public bool Sign => (SignExponent & 0x8000) != 0;
    public int Exponent => SignExponent & 0x7FFF;

    public static Float80 Zero => new(0, 0);
    public static Float80 One => new(0x8000_0000_0000_0000, Bias);
    public static Float80 PositiveInfinity => new(0x8000_0000_0000_0000, 0x7FFF);
    /// <summary>The QNaN "real indefinite" the x87 produces for masked invalid operations.</summary>
    public static Float80 Indefinite => new(0xC000_0000_0000_0000, 0xFFFF);

    public Float80 Negate() => new(Significand, (ushort)(SignExponent ^ 0x8000));
    public Float80 Abs() => new(Significand, (ushort)(SignExponent & 0x7FFF));
}
