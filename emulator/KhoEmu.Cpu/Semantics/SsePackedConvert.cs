using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu.Semantics;

/// <summary>
/// SSE/SSE2 packed conversions (SDM vol. 2: CVTDQ2PS, CVT(T)PS2DQ, CVT(T)PD2DQ, CVTPD2PS, CVTPS2PD): lane-wise, with
/// the integer indefinite 80000000H for NaN and out-of-range inputs; the 2-lane results zero the upper quadword.
/// </summary>
internal static partial class Sse
{
    private static int ToInt32Lane(Cpu c, double x, bool truncate)
    {
        x = truncate ? Math.Truncate(x) : RoundMxcsr(c, x);
        return double.IsNaN(x) || x < int.MinValue || x >= 2147483648.0 ? int.MinValue : (int)x;
    }

    private static double Lo(ulong q) => BitConverter.Int64BitsToDouble((long)q);
    private static float Single(ulong q, int lane) => BitConverter.Int32BitsToSingle((int)(q >> (32 * lane)));
    private static ulong Pack(int lo, int hi) => (uint)lo | ((ulong)(uint)hi << 32);
    private static ulong Pack(float lo, float hi) =>
        (uint)BitConverter.SingleToInt32Bits(lo) | ((ulong)(uint)BitConverter.SingleToInt32Bits(hi) << 32);

    /// <summary>CVTPD2DQ / CVTTPD2DQ: two doubles to two int32 in the low quadword.</summary>
    public static void Pd2Dq(Cpu c, ref DecodedOp op)
    {
        if (!Available(c) || !ReadSource(c, ref op, out var s)) return;
        bool t = op.Insn.Mnemonic == Iced.Intel.Mnemonic.Cvttpd2dq;
        c.XmmRegs[op.R0] = new Xmm(Pack(ToInt32Lane(c, Lo(s.Lo), t), ToInt32Lane(c, Lo(s.Hi), t)), 0);
    }

    /// <summary>CVTPS2DQ / CVTTPS2DQ: four floats to four int32.</summary>
    public static void Ps2Dq(Cpu c, ref DecodedOp op)
    {
        if (!Available(c) || !ReadSource(c, ref op, out var s)) return;
        bool t = op.Insn.Mnemonic == Iced.Intel.Mnemonic.Cvttps2dq;
        c.XmmRegs[op.R0] = new Xmm(Pack(ToInt32Lane(c, Single(s.Lo, 0), t), ToInt32Lane(c, Single(s.Lo, 1), t)),
            Pack(ToInt32Lane(c, Single(s.Hi, 0), t), ToInt32Lane(c, Single(s.Hi, 1), t)));
    }

    /// <summary>CVTDQ2PS: four int32 to four floats.</summary>
    public static void Dq2Ps(Cpu c, ref DecodedOp op)
    {
        if (!Available(c) || !ReadSource(c, ref op, out var s)) return;
        c.XmmRegs[op.R0] = new Xmm(Pack((float)(int)s.Lo, (float)(int)(s.Lo >> 32)), Pack((float)(int)s.Hi, (float)(int)(s.Hi >> 32)));
    }

    /// <summary>CVTPD2PS: two doubles to two floats in the low quadword.</summary>
    public static void Pd2Ps(Cpu c, ref DecodedOp op)
    {
        if (!Available(c) || !ReadSource(c, ref op, out var s)) return;
        c.XmmRegs[op.R0] = new Xmm(Pack((float)Lo(s.Lo), (float)Lo(s.Hi)), 0);
    }

    /// <summary>CVTPS2PD: the two low floats (xmm or m64) to two doubles.</summary>
    public static void Ps2Pd(Cpu c, ref DecodedOp op)
    {
        if (!Available(c) || !ReadScalar(c, ref op, 8, out ulong s)) return;
        c.XmmRegs[op.R0] = new Xmm((ulong)BitConverter.DoubleToInt64Bits(Single(s, 0)), (ulong)BitConverter.DoubleToInt64Bits(Single(s, 1)));
    }
}
