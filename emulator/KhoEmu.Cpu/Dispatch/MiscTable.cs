using Iced.Intel;
using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.Semantics;

namespace KhoEmu.Cpu.Dispatch;

/// <summary>Table rows for descriptor checks, legacy instructions (BCD, BOUND, far-pointer loads) and the random-number instructions.</summary>
internal static unsafe class MiscTable
{
    public static void Register(Action<nint, Mnemonic[]> on)
    {
        void Reg(delegate*<Cpu, ref DecodedOp, void> h, params Mnemonic[] ms) => on((nint)h, ms);
        Reg(&SegmentChecks.Verr, Mnemonic.Verr);
        Reg(&SegmentChecks.Verw, Mnemonic.Verw);
        Reg(&SegmentChecks.Lar, Mnemonic.Lar);
        Reg(&SegmentChecks.Lsl, Mnemonic.Lsl);
        Reg(&SegmentChecks.Arpl, Mnemonic.Arpl);
        Reg(&Mov.Salc, Mnemonic.Salc);
        Reg(&Flow.Int1, Mnemonic.Int1);
        Reg(&RandomNumbers.Rdrand, Mnemonic.Rdrand);
        Reg(&RandomNumbers.Rdseed, Mnemonic.Rdseed);
        Reg(&LegacyOps.AsciiAdjust, Mnemonic.Aaa, Mnemonic.Aas);
        Reg(&LegacyOps.DecimalAdjust, Mnemonic.Daa, Mnemonic.Das);
        Reg(&LegacyOps.AsciiMulDiv, Mnemonic.Aam, Mnemonic.Aad);
        Reg(&LegacyOps.Bound, Mnemonic.Bound);
        Reg(&LegacyOps.LoadFarPointer, Mnemonic.Lds, Mnemonic.Les, Mnemonic.Lfs, Mnemonic.Lgs, Mnemonic.Lss);
    }
}
