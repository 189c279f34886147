namespace KhoEmu.Cpu.X87;

/// <summary>
/// Software 80-bit extended-precision arithmetic with the x87's exact results: rounding control (CW bits 10-11),
/// precision control (CW bits 8-9, which applies to add, subtract, multiply, divide and square root only), exception
/// masks (CW bits 0-5), denormal and pseudo-denormal operands, unsupported encodings (invalid operands), NaN
/// propagation and the real indefinite. <c>cw</c> is always the x87 control word.
/// </summary>
/// <remarks>
/// Every operation assigns <see cref="X87Flags.RoundedUp"/> (C1) and ORs what it raised into
/// <see cref="X87Flags.Raised"/>. When an unmasked invalid-operation, denormal-operand or zero-divide exception is
/// raised the operation stops there, as on hardware (no lower-priority flag is raised); the value returned then is
/// meaningless and the caller leaves the destination alone. The operations are split by concern over the partial
/// files SoftFloat80.*.cs; docs/cpu.md ("x87 arithmetic") lists the hardware behaviour they reproduce.
/// </remarks>
public static partial class SoftFloat80
{
    internal const ulong IntegerBit = 0x8000_0000_0000_0000;
    internal const ulong QuietBit = 0x4000_0000_0000_0000;
    internal const int MaxExponent = 0x7FFF;

    /// <summary>The SDM's bias adjustment for unmasked overflow and underflow with a register destination (§4.9.1.4).</summary>
    internal const int BiasAdjust = 24576;

    internal static bool IsNaN(Float80 a) => a.Exponent == MaxExponent && (a.Significand & IntegerBit) != 0 && (a.Significand << 1) != 0;
    internal static bool IsSignaling(Float80 a) => IsNaN(a) && (a.Significand & QuietBit) == 0;
    internal static bool IsInfinity(Float80 a) => a.Exponent == MaxExponent && a.Significand == IntegerBit;
    /// <summary>Unnormals, pseudo-NaNs and pseudo-infinities: a non-zero exponent with the integer bit clear.</summary>
    internal static bool IsUnsupported(Float80 a) => a.Exponent != 0 && (a.Significand & IntegerBit) == 0;
    internal static bool IsZero(Float80 a) => a.Exponent == 0 && a.Significand == 0;
    /// <summary>Denormals and pseudo-denormals (exponent 0, integer bit set), both of which raise DE.</summary>
    internal static bool IsDenormal(Float80 a) => a.Exponent == 0 && a.Significand != 0;

    internal static int RoundingControl(ushort cw) => (cw >> 10) & 3;
    internal const int RoundNearest = 0, RoundDown = 1, RoundUp = 2, RoundZero = 3;

    /// <summary>Precision control: 00 single (24 bits), 10 double (53), 11 extended (64); the reserved 01 acts as 64.</summary>
    internal static int PrecisionBits(ushort cw) => ((cw >> 8) & 3) switch { 0 => 24, 2 => 53, _ => 64 };

    internal static bool IsMasked(ushort cw, X87Exception e) => (cw & (ushort)e) != 0;

    internal static Float80 Pack(bool sign, int exponent, ulong significand) =>
        new(significand, (ushort)((sign ? 0x8000 : 0) | exponent));

    internal static Float80 Quiet(Float80 a) => new(a.Significand | QuietBit, a.SignExponent);

    internal static Float80 InvalidResult(ref X87Flags f)
    {
        f.Raised |= X87Exception.Invalid;
        return Float80.Indefinite;
    }

    /// <summary>The biased exponent and significand of a finite non-zero value, normalized (bit 63 set): a
    /// denormal's exponent goes below 1, a pseudo-denormal reads as exponent 1.</summary>
    internal static int Normalize(Float80 a, out ulong significand)
    {
        int e = a.Exponent;
        ulong s = a.Significand;
        if (e == 0)
        {
            e = 1;
            int lz = System.Numerics.BitOperations.LeadingZeroCount(s);
            s <<= lz;
            e -= lz;
        }
        significand = s;
        return e;
    }

    /// <summary>
    /// NaN propagation for two operands (SDM vol. 1 table 4-7): an SNaN raises IE and is quieted; a QNaN beats an SNaN;
    /// between two NaNs of the same kind the larger significand wins (equal: the positive one).
    /// </summary>
    internal static Float80 PropagateNaN(Float80 a, Float80 b, ref X87Flags f)
    {
        bool nanA = IsNaN(a), nanB = IsNaN(b);
        bool sigA = nanA && (a.Significand & QuietBit) == 0, sigB = nanB && (b.Significand & QuietBit) == 0;
        if (sigA || sigB) f.Raised |= X87Exception.Invalid;
        if (!nanA) return Quiet(b);
        if (!nanB) return Quiet(a);
        if (sigA != sigB) return Quiet(sigA ? b : a);
        if (a.Significand != b.Significand) return Quiet(a.Significand > b.Significand ? a : b);
        return Quiet(a.Sign ? b : a);
    }

    internal static int Lzcnt(ulong v) => System.Numerics.BitOperations.LeadingZeroCount(v);

    /// <summary>Raises DE for denormal operands; true when DE is unmasked, so the operation must stop.</summary>
    internal static bool DenormalStops(Float80 a, Float80 b, ushort cw, ref X87Flags f)
    {
        if (!IsDenormal(a) && !IsDenormal(b)) return false;
        f.Raised |= X87Exception.Denormal;
        return !IsMasked(cw, X87Exception.Denormal);
    }
}
