namespace KhoEmu.Cpu.Tests;

/// <summary>
/// Edge-heavy binary32/binary64 lane values for the SSE floating-point differential tests: signed zeros,
/// infinities, QNaNs and SNaNs with payloads, denormals, the smallest normals and largest finite values and their
/// neighbours, small integers and halves, values around 2^31 and 2^63 (integer conversion limits), huge and tiny
/// exponents (overflow and underflow of products and quotients), and random values near 1.
/// </summary>
public static class SseFloatInputs
{
    public static ulong Lane64(Random r)
    {
        ulong sign = (ulong)r.Next(2) << 63;
        ulong frac = (ulong)r.NextInt64(1L << 52);
        return r.Next(16) switch
        {
            0 => sign,
            1 => sign | 0x7FF0_0000_0000_0000,
            2 => sign | 0x7FF8_0000_0000_0000 | (frac >> 1),
            3 => sign | 0x7FF0_0000_0000_0000 | (frac >> 1) | 1,
            4 => sign | (r.Next(2) == 0 ? frac : frac >> r.Next(52)) | 1,
            5 => sign | (ulong)(0x0010_0000_0000_0000L + r.Next(-3, 4)),
            6 => sign | (ulong)(0x7FEF_FFFF_FFFF_FFFFL - r.Next(4)),
            7 => BitConverter.DoubleToUInt64Bits(r.Next(-16, 17) / (double)(1 << r.Next(3))),
            8 => BitConverter.DoubleToUInt64Bits((r.Next(2) == 0 ? -1 : 1) * (2147483648.0 + r.Next(-3, 3) + r.Next(4) * 0.25)),
            9 => sign | (ulong)(0x43E0_0000_0000_0000L + r.Next(-3, 4)),
            10 => sign | ((ulong)r.Next(2047) << 52) | frac,
            11 => sign | ((ulong)(1023 + r.Next(-3, 4)) << 52) | frac,
            12 => sign | ((ulong)r.Next(1, 64) << 52) | frac,
            13 => sign | ((ulong)r.Next(1984, 2047) << 52) | frac,
            14 => sign | ((ulong)r.Next(1023 - 40, 1023 + 70) << 52) | (r.Next(2) == 0 ? frac & ~0xFFFFFUL : frac),
            _ => sign | ((ulong)r.Next(400, 1700) << 52) | frac,
        };
    }

    public static uint Lane32(Random r)
    {
        uint sign = (uint)r.Next(2) << 31;
        uint frac = (uint)r.Next(1 << 23);
        return r.Next(16) switch
        {
            0 => sign,
            1 => sign | 0x7F80_0000,
            2 => sign | 0x7FC0_0000 | (frac >> 1),
            3 => sign | 0x7F80_0000 | (frac >> 1) | 1,
            4 => sign | (r.Next(2) == 0 ? frac : frac >> r.Next(23)) | 1,
            5 => sign | (uint)(0x0080_0000 + r.Next(-3, 4)),
            6 => sign | (uint)(0x7F7F_FFFF - r.Next(4)),
            7 => BitConverter.SingleToUInt32Bits(r.Next(-16, 17) / (float)(1 << r.Next(3))),
            8 => sign | (uint)(0x4F00_0000 + r.Next(-3, 4)),
            9 => sign | (uint)(0x5F00_0000 + r.Next(-3, 4)),
            10 => sign | ((uint)r.Next(255) << 23) | frac,
            11 => sign | ((uint)(127 + r.Next(-3, 4)) << 23) | frac,
            12 => sign | ((uint)r.Next(1, 16) << 23) | frac,
            13 => sign | ((uint)r.Next(240, 255) << 23) | frac,
            14 => sign | ((uint)r.Next(127 - 20, 127 + 34) << 23) | (r.Next(2) == 0 ? frac & ~0xFFFu : frac),
            _ => sign | ((uint)r.Next(60, 200) << 23) | frac,
        };
    }

    /// <summary>A second operand that makes a sum land on or next to a halfway case of a's last place.</summary>
    public static ulong Halfway64(Random r, ulong a)
    {
        long exp = (long)((a >> 52) & 0x7FF) - 53 + r.Next(-1, 2);
        if (exp <= 0 || exp >= 2047) return Lane64(r);
        ulong frac = r.Next(3) switch { 0 => 0, 1 => 1, _ => (ulong)r.NextInt64(1L << 52) };
        return ((ulong)r.Next(2) << 63) | ((ulong)exp << 52) | frac;
    }

    public static uint Halfway32(Random r, uint a)
    {
        int exp = (int)((a >> 23) & 0xFF) - 24 + r.Next(-1, 2);
        if (exp <= 0 || exp >= 255) return Lane32(r);
        uint frac = r.Next(3) switch { 0 => 0, 1 => 1u, _ => (uint)r.Next(1 << 23) };
        return ((uint)r.Next(2) << 31) | ((uint)exp << 23) | frac;
    }

    /// <summary>A 64-bit integer source for CVTSI2SS/SD: small, around 2^24, 2^53, 2^63, or random.</summary>
    public static ulong Integer(Random r) => r.Next(6) switch
    {
        0 => (ulong)r.Next(-100, 100),
        1 => (ulong)((1L << 24) + r.Next(-5, 6)) * (r.Next(2) == 0 ? 1UL : unchecked((ulong)-1L)),
        2 => (ulong)((1L << 53) + r.Next(-5, 6)),
        3 => (ulong)(long.MaxValue - r.Next(1000)) ^ (r.Next(2) == 0 ? 0 : ulong.MaxValue),
        4 => (ulong)r.NextInt64() >> r.Next(64),
        _ => (ulong)r.NextInt64() | ((ulong)r.Next(2) << 63),
    };

    /// <summary>MXCSR with every exception masked, a random RC, FTZ and DAZ, and sometimes sticky flags.</summary>
    public static uint Mxcsr(Random r) =>
        0x1F80u | ((uint)r.Next(4) << 13) | (r.Next(3) == 0 ? 0x8000u : 0) | (r.Next(3) == 0 ? 0x40u : 0)
        | (r.Next(6) == 0 ? (uint)r.Next(64) : 0);
}
