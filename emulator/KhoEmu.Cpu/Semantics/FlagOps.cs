using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu.Semantics;

/// <summary>CLC, STC, CMC, CLD, STD, LAHF, SAHF.</summary>
internal static class FlagOps
{
    public static void Clc(Cpu c, ref DecodedOp op) => c.SetFlag(Rflags.CF, false);
    public static void Stc(Cpu c, ref DecodedOp op) => c.SetFlag(Rflags.CF, true);
    public static void Cmc(Cpu c, ref DecodedOp op) => c.SetFlag(Rflags.CF, !c.CF);
    public static void Cld(Cpu c, ref DecodedOp op) => c.SetFlag(Rflags.DF, false);
    public static void Std(Cpu c, ref DecodedOp op) => c.SetFlag(Rflags.DF, true);

    public static void Lahf(Cpu c, ref DecodedOp op) => c.SetReg(16, 1, (c.GetRflags() & 0xD5) | 2);

    public static void Sahf(Cpu c, ref DecodedOp op)
    {
        ulong ah = c.GetReg(16, 1);
        c.SetArithFlags((ah & 1) != 0, (ah & 4) != 0, (ah & 0x10) != 0, (ah & 0x40) != 0, (ah & 0x80) != 0, c.OF);
    }
}
