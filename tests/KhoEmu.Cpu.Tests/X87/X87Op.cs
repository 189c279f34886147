using Iced.Intel;
using KhoEmu.Cpu.X87;

namespace KhoEmu.Cpu.Tests.X87;

/// <summary>Fills the operands and control word of a case.</summary>
internal delegate void OperandGenerator(Random r, ref X87Block b);

/// <summary>Computes a case in software: reads Cw/A/B of the block, writes R1/R2/Sw/Flags.</summary>
internal delegate void SoftOperation(ref X87Block b);

/// <summary>
/// One operation of the x87 differential test: the native body (after FNINIT; FLDCW), its software model, how
/// operands are made, how many result bytes are compared and which status-word bits are defined.
/// </summary>
/// <param name="MemoryStore">An unmasked overflow/underflow/invalid leaves memory unwritten, so values are not compared then.</param>
/// <param name="UlpBound">For transcendentals: the accepted distance in units in the last place (0: bit-exact).</param>
internal sealed record X87Op(string Name, Action<Assembler> Body, SoftOperation Soft, OperandGenerator Operands,
    int R1Bytes, int R2Bytes = 0, ushort SwMask = X87Op.FlagsAndC1, bool MemoryStore = false, int Cases = 60_000,
    ulong RflagsMask = 0, int UlpBound = 0)
{
    public const ushort C0 = 0x100, C1 = 0x200, C2 = 0x400, C3 = 0x4000;
    public const ushort FlagsAndC1 = 0x3F | C1;

    public static ushort Sw(in X87Flags f, int conditionBits = 0) =>
        (ushort)((ushort)f.Raised | (f.RoundedUp ? C1 : 0) | conditionBits);

    public static Float80 A80(in X87Block b) => new(b.A0, (ushort)b.A1);
    public static Float80 B80(in X87Block b) => new(b.B0, (ushort)b.B1);

    public static void SetR1(ref X87Block b, Float80 v)
    {
        b.R10 = v.Significand;
        b.R11 = v.SignExponent;
    }

    public static void SetR2(ref X87Block b, Float80 v)
    {
        b.R20 = v.Significand;
        b.R21 = v.SignExponent;
    }

    public override string ToString() => Name;
}
