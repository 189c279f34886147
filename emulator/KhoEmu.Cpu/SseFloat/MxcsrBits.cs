namespace KhoEmu.Cpu.SseFloat;

/// <summary>
/// MXCSR layout (Intel SDM vol. 1, 10.2.3, figure 10-3): exception flags IE DE ZE OE UE PE in bits 0-5, DAZ bit 6,
/// the six masks in bits 7-12 (each flag's mask is the flag shifted left by 7), RC in bits 13-14, FTZ bit 15.
/// IE, DE and ZE are the pre-computation exceptions, OE, UE and PE the post-computation ones (11.5.1).
/// </summary>
internal static class MxcsrBits
{
    public const uint IE = 1, DE = 2, ZE = 4, OE = 8, UE = 16, PE = 32;
    public const uint AllFlags = 0x3F, PreComputation = IE | DE | ZE, PostComputation = OE | UE | PE;
    public const uint Daz = 1 << 6, Ftz = 1 << 15, RcMask = 3 << 13;
    public const int MaskShift = 7, RcShift = 13;

    /// <summary>The bits MXCSR_MASK advertises (FXSAVE offset 28): all 16 low bits, DAZ included.</summary>
    public const uint WritableMask = 0xFFFF;

    public static RoundingMode Rounding(uint mxcsr) => (RoundingMode)((mxcsr >> RcShift) & 3);

    /// <summary>The exception flags whose mask bit is clear.</summary>
    public static uint Unmasked(uint mxcsr) => ~(mxcsr >> MaskShift) & AllFlags;
}
