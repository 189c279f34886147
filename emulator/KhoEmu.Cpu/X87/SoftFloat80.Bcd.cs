namespace KhoEmu.Cpu.X87;

public static partial class SoftFloat80
{
    private const ulong MaxBcd = 999_999_999_999_999_999;

    /// <summary>FBLD: 10-byte packed BCD (18 digits, low digit in the low nibble of byte 0; sign in bit 79). Exact;
    /// a negative zero loads as −0. Nibbles above 9 are undefined on hardware and are taken at face value here.</summary>
    public static Float80 FromBcd(ReadOnlySpan<byte> bcd)
    {
        ulong v = 0;
        for (int i = 8; i >= 0; i--)
            v = v * 100 + (ulong)(bcd[i] >> 4) * 10 + (ulong)(bcd[i] & 0xF);
        bool sign = (bcd[9] & 0x80) != 0;
        if (v == 0) return Pack(sign, 0, 0);
        int lz = Lzcnt(v);
        return Pack(sign, Float80.Bias + 63 - lz, v << lz);
    }

    /// <summary>FBSTP: rounds to an integer with the control word; out of range or NaN stores the BCD indefinite.</summary>
    public static void ToBcd(Float80 a, ushort cw, ref X87Flags f, Span<byte> bcd)
    {
        f.RoundedUp = false;
        bcd[..10].Clear();
        if (IsUnsupported(a) || IsNaN(a) || IsInfinity(a))
        {
            Indefinite(ref f, bcd);
            return;
        }
        ulong mag = 0;
        if (!IsZero(a))
        {
            if (!RoundToIntegerMagnitude(a, RoundingControl(cw), out mag, out bool inexact, out bool up) || mag > MaxBcd)
            {
                Indefinite(ref f, bcd);
                return;
            }
            if (inexact) f.Raised |= X87Exception.Precision;
            f.RoundedUp = up;
        }
        for (int i = 0; i < 9; i++)
        {
            bcd[i] = (byte)((mag % 10) | ((mag / 10 % 10) << 4));
            mag /= 100;
        }
        bcd[9] = a.Sign ? (byte)0x80 : (byte)0;
    }

    /// <summary>The packed BCD indefinite, 0xFFFF_C000_0000_0000_0000 (SDM vol. 1 table 4-4).</summary>
    private static void Indefinite(ref X87Flags f, Span<byte> bcd)
    {
        f.Raised |= X87Exception.Invalid;
        bcd[9] = 0xFF;
        bcd[8] = 0xFF;
        bcd[7] = 0xC0;
    }
}
