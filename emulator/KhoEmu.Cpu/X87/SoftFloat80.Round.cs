namespace KhoEmu.Cpu.X87;

public static partial class SoftFloat80
{
    /// <summary>Rounds an exact result to a register value (15-bit exponent) at <paramref name="precision"/> bits.</summary>
    /// <param name="exp">Biased exponent of bit 63 of <paramref name="sig"/>; may lie outside 1..0x7FFE.</param>
    /// <param name="sig">Significand with bit 63 set.</param>
    /// <param name="extra">The 64 bits below <paramref name="sig"/>, with any further non-zero bits jammed into bit 0.</param>
    /// <param name="forceInexact">Treat the result as inexact even when the bits are exact (the transcendentals:
    /// the x87 raises PE, and UE for a tiny result, on every computed result).</param>
    internal static Float80 RoundPack(bool sign, int exp, ulong sig, ulong extra, int precision, ushort cw, ref X87Flags f,
        bool forceInexact = false)
    {
        ulong r = RoundToFormat(sign, ref exp, sig, extra, precision, MaxExponent, cw, true, ref f, forceInexact);
        return Pack(sign, exp, r);
    }

    /// <summary>
    /// The rounding core shared by register results and memory formats: a format with <paramref name="precision"/>
    /// significand bits and normal biased exponents 1 .. <paramref name="maxExp"/> - 1. Returns the rounded
    /// significand aligned at bit 63 (bit 63 clear for a denormal, whose exponent is returned as 0) and updates
    /// <paramref name="exp"/>. Tininess is detected after rounding (as the host x87 does): a result that rounds to the smallest normal at the
    /// precision is not tiny. Unmasked
    /// overflow and underflow bias-adjust the exponent by 24576 for a register destination; for a memory
    /// destination only OE/UE is raised (no PE, C1 clear) and the caller leaves memory unchanged.
    /// </summary>
    internal static ulong RoundToFormat(bool sign, ref int exp, ulong sig, ulong extra, int precision, int maxExp,
        ushort cw, bool register, ref X87Flags f, bool forceInexact = false)
    {
        int rc = RoundingControl(cw);
        int drop = 64 - precision;
        bool inexact, up, carry;
        ulong r;
        // Tiny: below the smallest normal even after rounding to the precision with an unbounded exponent.
        if (exp < 0 || (exp == 0 && !RoundCarries(sign, sig, extra, drop, rc)))
        {
            if (!IsMasked(cw, X87Exception.Underflow))
            {
                f.Raised |= X87Exception.Underflow;
                if (!register)
                {
                    f.RoundedUp = false;
                    return 0;
                }
            }
            if (!IsMasked(cw, X87Exception.Underflow))
            {
                if (exp + BiasAdjust < 1)
                {
                    // Still tiny after the adjustment (only FSCALE gets here): a zero, whatever the rounding.
                    f.Raised |= X87Exception.Precision;
                    f.RoundedUp = false;
                    exp = 0;
                    return 0;
                }
                exp += BiasAdjust;
            }
            else
            {
                // Masked, or still tiny after the bias adjustment (FSCALE): the masked response.
                ShiftRightJam(ref sig, ref extra, 1 - exp);
                r = RoundBits(sign, sig, extra, drop, rc, out inexact, out up, out _);
                inexact |= forceInexact;
                exp = (r & IntegerBit) != 0 ? 1 : 0;
                if (inexact) f.Raised |= X87Exception.Underflow | X87Exception.Precision;
                f.RoundedUp = up;
                return r;
            }
        }
        r = RoundBits(sign, sig, extra, drop, rc, out inexact, out up, out carry);
        inexact |= forceInexact;
        if (carry)
        {
            r = IntegerBit;
            exp++;
        }
        if (exp >= maxExp)
        {
            if (!IsMasked(cw, X87Exception.Overflow))
            {
                f.Raised |= X87Exception.Overflow;
                if (register && exp - BiasAdjust >= maxExp)
                {
                    // Still too large after the adjustment (only FSCALE gets here): an infinity, whatever the rounding.
                    f.Raised |= X87Exception.Precision;
                    f.RoundedUp = true;
                    exp = maxExp;
                    return IntegerBit;
                }
                if (!register)
                {
                    f.RoundedUp = false;
                    return 0;
                }
                if (inexact) f.Raised |= X87Exception.Precision;
                f.RoundedUp = up;
                if (register) exp -= BiasAdjust;
                return r;
            }
            f.Raised |= X87Exception.Overflow | X87Exception.Precision;
            bool toInfinity = rc == RoundNearest || (rc == RoundUp && !sign) || (rc == RoundDown && sign);
            f.RoundedUp = toInfinity;
            if (toInfinity)
            {
                exp = maxExp;
                return IntegerBit;
            }
            exp = maxExp - 1;
            return ~0UL << drop;
        }
        if (inexact) f.Raised |= X87Exception.Precision;
        f.RoundedUp = up;
        return r;
    }

    /// <summary>Rounds sig.extra at bit <paramref name="drop"/> of <paramref name="sig"/> with rounding control
    /// <paramref name="rc"/>; <paramref name="carry"/> reports a carry out of bit 63 (the result is then 0).</summary>
    internal static ulong RoundBits(bool sign, ulong sig, ulong extra, int drop, int rc, out bool inexact, out bool up,
        out bool carry)
    {
        ulong mask = drop == 0 ? 0 : (1UL << drop) - 1;
        ulong low = sig & mask;
        inexact = low != 0 || extra != 0;
        bool inc;
        switch (rc)
        {
            case RoundNearest:
                if (drop == 0)
                    inc = extra > IntegerBit || (extra == IntegerBit && (sig & 1) != 0);
                else
                {
                    ulong half = 1UL << (drop - 1);
                    inc = low > half || (low == half && (extra != 0 || (sig & (1UL << drop)) != 0));
                }
                break;
            case RoundDown: inc = sign && inexact; break;
            case RoundUp: inc = !sign && inexact; break;
            default: inc = false; break;
        }
        ulong r = sig & ~mask;
        carry = false;
        if (inc)
        {
            r += 1UL << drop;
            carry = r == 0;
        }
        up = inc;
        return r;
    }

    private static bool RoundCarries(bool sign, ulong sig, ulong extra, int drop, int rc)
    {
        RoundBits(sign, sig, extra, drop, rc, out _, out _, out bool carry);
        return carry;
    }

    /// <summary>Shifts the 128-bit sig:extra right, jamming the bits shifted out into bit 0 of extra.</summary>
    internal static void ShiftRightJam(ref ulong sig, ref ulong extra, int count)
    {
        if (count <= 0) return;
        if (count < 64)
        {
            ulong lost = extra << (64 - count);
            extra = (sig << (64 - count)) | (extra >> count) | (lost != 0 ? 1UL : 0);
            sig >>= count;
        }
        else if (count == 64)
        {
            extra = sig | (extra != 0 ? 1UL : 0);
            sig = 0;
        }
        else if (count < 128)
        {
            ulong lost = (sig << (128 - count)) | extra;
            extra = (sig >> (count - 64)) | (lost != 0 ? 1UL : 0);
            sig = 0;
        }
        else
        {
            extra = (sig | extra) != 0 ? 1UL : 0;
            sig = 0;
        }
    }

    /// <summary>Splits a 128-bit value with bit 127 set into the significand and extra words.</summary>
    internal static ulong High(UInt128 v, out ulong extra)
    {
        extra = (ulong)v;
        return (ulong)(v >> 64);
    }
}
