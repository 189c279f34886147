using KhoEmu.Cpu.X87;

namespace KhoEmu.Cpu.Tests.X87;

/// <summary>Operand generators for the x87 differential tests: random bit patterns weighted towards edge classes.</summary>
internal static class X87Operands
{
    private const ulong Int = 0x8000_0000_0000_0000;

    private static ulong U64(Random r) => (ulong)r.NextInt64() ^ ((ulong)r.Next(2) << 63);
    private static ushort SignBit(Random r) => (ushort)(r.Next(2) << 15);

    /// <summary>A random significand, sometimes with only a few leading bits set (exact and halfway results).</summary>
    private static ulong Significand(Random r) => r.Next(6) switch
    {
        0 => Int | (U64(r) & ~(~0UL >> r.Next(1, 40))), // few bits
        1 => Int | (U64(r) >> r.Next(1, 64)), // leading zeros after the integer bit
        2 => r.Next(2) == 0 ? ~0UL : Int,
        3 => Int | (U64(r) & ~0xFFUL) | (ulong)r.Next(3) << (r.Next(4) switch { 0 => 39, 1 => 10, _ => 0 }),
        _ => Int | U64(r),
    };

    public static Float80 Value(Random r)
    {
        ushort s = SignBit(r);
        switch (r.Next(24))
        {
            case 0: return new(U64(r), (ushort)r.Next(65536));
            case 1: return new(0, s); // ±0
            case 2: return new(U64(r) >> r.Next(1, 64), s); // denormal
            case 3: return new(Int | U64(r), s); // pseudo-denormal
            case 4: return new(U64(r) >> 1, (ushort)(s | r.Next(1, 0x8000))); // unnormal / pseudo-NaN / pseudo-inf
            case 5: return new(Significand(r), (ushort)(s | (r.Next(2) == 0 ? 1 : 0x7FFE))); // extreme normals
            case 6: return new(Int, (ushort)(s | 0x7FFF)); // ±inf
            case 7: return new(Int | 0x4000_0000_0000_0000 | (U64(r) >> r.Next(2, 64)), (ushort)(s | 0x7FFF)); // QNaN
            case 8: return new(Int | Math.Max(1, U64(r) >> r.Next(2, 64)), (ushort)(s | 0x7FFF)); // SNaN
            case 9: return NearInteger(r);
            case 10: return new(Significand(r), (ushort)(s | r.Next(1, 200))); // underflow territory
            case 11: return new(Significand(r), (ushort)(s | r.Next(0x7FFF - 200, 0x7FFF))); // overflow territory
            case 12: return new(Significand(r), (ushort)(s | r.Next(0x3FFF - 100, 0x3FFF + 100)));
            default: return new(Significand(r), (ushort)(s | r.Next(0x3FFF - 20, 0x3FFF + 70)));
        }
    }

    /// <summary>Integers, integers ± an ulp or two, and half-integers.</summary>
    public static Float80 NearInteger(Random r)
    {
        int bitsUsed = r.Next(1, 66);
        ulong mag = (U64(r) | Int) >> (64 - Math.Min(bitsUsed, 64));
        var f = new X87Flags();
        Float80 v = SoftFloat80.FromInt64((long)(mag >> 1) * (r.Next(2) == 0 ? 1 : -1));
        if (v.Exponent == 0) return v;
        return r.Next(4) switch
        {
            0 => v,
            1 => new(v.Significand + (ulong)r.Next(1, 3), v.SignExponent), // just above an integer
            2 => new(v.Significand - (ulong)r.Next(1, 3), v.SignExponent),
            _ => SoftFloat80.Add(v, new(Int, (ushort)((v.SignExponent & 0x8000) | (0x3FFE - r.Next(0, 2)))), 0x37F, ref f),
        };
    }

    /// <summary>Two operands, sometimes related (close exponents for cancellation, equal, negated).</summary>
    public static (Float80, Float80) Pair(Random r)
    {
        Float80 a = Value(r);
        Float80 b;
        switch (r.Next(6))
        {
            case 0 when a.Exponent is > 0 and < 0x7FFF:
                int e = Math.Clamp(a.Exponent + r.Next(-70, 71), 1, 0x7FFE);
                b = new(Significand(r), (ushort)((r.Next(2) << 15) | e));
                break;
            case 1: b = r.Next(2) == 0 ? a : a.Negate(); break;
            case 2: b = new(a.Significand ^ (ulong)r.Next(1, 8), (ushort)(a.SignExponent ^ (r.Next(2) << 15))); break;
            default: b = Value(r); break;
        }
        return r.Next(2) == 0 ? (a, b) : (b, a);
    }

    /// <summary>Rounding control and precision control at random; usually everything masked, sometimes not.</summary>
    public static ushort ControlWord(Random r, bool allowUnmasked)
    {
        int masks = allowUnmasked && r.Next(4) == 0 ? r.Next(64) : 0x3F;
        int pc = r.Next(8) switch { 0 => 1, 1 or 2 => 0, 3 or 4 => 2, _ => 3 };
        return (ushort)(0x40 | masks | (pc << 8) | (r.Next(4) << 10));
    }

    public static uint Single(Random r) => r.Next(8) switch
    {
        0 => (uint)r.Next(1 << 23) | ((uint)r.Next(2) << 31), // denormal or zero
        1 => 0x7F80_0000u | (uint)r.Next(1 << 23) | ((uint)r.Next(2) << 31), // inf / NaN
        2 => (uint)r.Next(4) << 30 | 0x3F80_0000u,
        _ => (uint)U64(r),
    };

    public static ulong Double(Random r) => r.Next(8) switch
    {
        0 => (U64(r) >> 12) | ((ulong)r.Next(2) << 63),
        1 => 0x7FF0_0000_0000_0000 | (U64(r) >> 12) | ((ulong)r.Next(2) << 63),
        _ => U64(r),
    };

    public static long Integer(Random r) => r.Next(4) switch
    {
        0 => r.Next(-70000, 70000),
        1 => (long)(U64(r) >> r.Next(0, 64)) * (r.Next(2) == 0 ? 1 : -1),
        2 => r.Next(2) == 0 ? long.MinValue : long.MaxValue,
        _ => (long)U64(r),
    };

    /// <summary>Packed BCD (valid digits), as the low 80 bits of two words.</summary>
    public static (ulong Lo, ulong Hi) Bcd(Random r)
    {
        int digits = r.Next(0, 19);
        ulong lo = 0, hi = 0;
        for (int i = 0; i < digits; i++)
        {
            ulong d = (ulong)r.Next(10);
            if (i < 16) lo |= d << (4 * i);
            else hi |= d << (4 * (i - 16));
        }
        if (r.Next(2) == 0) hi |= 0x8000;
        return (lo, hi);
    }
}
