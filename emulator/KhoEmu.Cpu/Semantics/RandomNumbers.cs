using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu.Semantics;

/// <summary>
/// RDRAND and RDSEED (SDM vol. 2B): a value from the CPU's deterministic generator (<see cref="Xoshiro256StarStar"/>,
/// seeded by the machine's RNG seed option) with CF=1 and OF/SF/ZF/AF/PF=0. The generator never runs dry, so CF is
/// always 1. On a CPU model that does not advertise the instruction it is an invalid opcode, as on hardware.
/// </summary>
internal static class RandomNumbers
{
    public static void Rdrand(Cpu c, ref DecodedOp op) => Deliver(c, ref op, c.Model.Has(CpuFeature.Rdrand));
    public static void Rdseed(Cpu c, ref DecodedOp op) => Deliver(c, ref op, c.Model.Has(CpuFeature.Rdseed));

    private static void Deliver(Cpu c, ref DecodedOp op, bool advertised)
    {
        if (!advertised) { c.RaiseFault(Vector.UD); return; }
        c.SetReg(op.R0, op.Size, c.NextRandom());
        c.SetArithFlags(cf: true, pf: false, af: false, zf: false, sf: false, of: false);
    }
}
