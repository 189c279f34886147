namespace KhoEmu.Cpu.SseFloat;

/// <summary>
/// An IEEE 754 binary interchange format held in the low bits of a ulong: binary32 (p 24, 8 exponent bits) or
/// binary64 (p 53, 11 exponent bits). <see cref="Indefinite"/> is x86's default QNaN, the "real indefinite" (sign
/// set, quiet bit set, rest zero; Intel SDM vol. 1, 4.8.3.7, table 4-3).
/// </summary>
internal readonly struct FpFormat
{
    public static FpFormat Single => new(32, 24);
    public static FpFormat Double => new(64, 53);

    public readonly int Precision;
    public readonly int Bias, Emin, Emax;
    public readonly ulong SignMask, ExpMask, FracMask, QuietBit, Hidden;

    private FpFormat(int bits, int precision)
    {
        Precision = precision;
        int expBits = bits - precision;
        Bias = (1 << (expBits - 1)) - 1;
        Emin = 1 - Bias;
        Emax = Bias;
        SignMask = 1UL << (bits - 1);
        Hidden = 1UL << (precision - 1);
        FracMask = Hidden - 1;
        ExpMask = (SignMask - 1) & ~FracMask;
        QuietBit = Hidden >> 1;
    }

    public ulong Indefinite => SignMask | ExpMask | QuietBit;
    public ulong MaxFinite => ExpMask - Hidden | FracMask;

    public bool IsNaN(ulong x) => (x & ~SignMask) > ExpMask;
    public bool IsSNaN(ulong x) => IsNaN(x) && (x & QuietBit) == 0;
    public bool IsInf(ulong x) => (x & ~SignMask) == ExpMask;
    public bool IsZero(ulong x) => (x & ~SignMask) == 0;
    public bool IsDenormal(ulong x) => (x & ExpMask) == 0 && (x & FracMask) != 0;
    public bool Negative(ulong x) => (x & SignMask) != 0;

    /// <summary>A denormal becomes a zero of its sign (MXCSR.DAZ, SDM vol. 1, 10.2.3.4).</summary>
    public ulong Daz(ulong x) => IsDenormal(x) ? x & SignMask : x;

    /// <summary>Finite non-zero x as m * 2^e with m an integer of at most <see cref="Precision"/> bits.</summary>
    public void Unpack(ulong x, out ulong m, out int e)
    {
        int biased = (int)((x & ExpMask) >> (Precision - 1));
        m = x & FracMask;
        if (biased == 0) { e = Emin - (Precision - 1); return; }
        m |= Hidden;
        e = biased - Bias - (Precision - 1);
    }
}
