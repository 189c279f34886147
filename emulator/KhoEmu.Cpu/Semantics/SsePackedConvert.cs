using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.SseFloat;
using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu.Semantics;

/// <summary>
/// SSE/SSE2 packed conversions (SDM vol. 2: CVTDQ2PS, CVTDQ2PD, CVT(T)PS2DQ, CVT(T)PD2DQ, CVTPD2PS, CVTPS2PD): lane-wise
/// through <see cref="FpConvert"/> (the integer indefinite 80000000H for NaN and out-of-range inputs); the 2-lane
/// results zero the upper quadword. The flags of all lanes are ORed; an unmasked one leaves the destination alone.
/// </summary>
internal static partial class Sse
{
    /// <summary>CVTPD2DQ / CVTTPD2DQ: two doubles to two int32 in the low quadword.</summary>
    public static void Pd2Dq(Cpu c, ref DecodedOp op)
    {
        if (!Available(c) || !ReadSource(c, ref op, out var s)) return;
        bool t = op.Insn.Mnemonic == Iced.Intel.Mnemonic.Cvttpd2dq;
        uint mx = c.Mxcsr, flags = 0;
        ulong lo = FpConvert.FloatToInt(s.Lo, FpFormat.Double, 32, t, mx, ref flags);
        ulong hi = FpConvert.FloatToInt(s.Hi, FpFormat.Double, 32, t, mx, ref flags);
        if (SignalSimd(c, flags)) c.XmmRegs[op.R0] = new Xmm(lo | hi << 32, 0);
    }

    /// <summary>CVTPS2DQ / CVTTPS2DQ: four floats to four int32.</summary>
    public static void Ps2Dq(Cpu c, ref DecodedOp op)
    {
        if (!Available(c) || !ReadSource(c, ref op, out var s)) return;
        bool t = op.Insn.Mnemonic == Iced.Intel.Mnemonic.Cvttps2dq;
        uint mx = c.Mxcsr, flags = 0;
        Xmm r = default;
        for (int i = 0; i < 4; i++) SetLane32(ref r, i, (uint)FpConvert.FloatToInt(Lane32(s, i), FpFormat.Single, 32, t, mx, ref flags));
        if (SignalSimd(c, flags)) c.XmmRegs[op.R0] = r;
    }

    /// <summary>CVTDQ2PS: four int32 to four floats, rounded by MXCSR.RC.</summary>
    public static void Dq2Ps(Cpu c, ref DecodedOp op)
    {
        if (!Available(c) || !ReadSource(c, ref op, out var s)) return;
        uint mx = c.Mxcsr, flags = 0;
        Xmm r = default;
        for (int i = 0; i < 4; i++) SetLane32(ref r, i, (uint)FpConvert.IntToFloat((int)Lane32(s, i), FpFormat.Single, mx, ref flags));
        if (SignalSimd(c, flags)) c.XmmRegs[op.R0] = r;
    }

    /// <summary>CVTDQ2PD: the two low int32 (xmm or m64) to two doubles, always exact.</summary>
    public static void Dq2Pd(Cpu c, ref DecodedOp op)
    {
        if (!Available(c) || !ReadScalar(c, ref op, 8, out ulong s)) return;
        c.XmmRegs[op.R0] = new Xmm(BitConverter.DoubleToUInt64Bits((int)s), BitConverter.DoubleToUInt64Bits((int)(s >> 32)));
    }

    /// <summary>CVTPD2PS: two doubles to two floats in the low quadword.</summary>
    public static void Pd2Ps(Cpu c, ref DecodedOp op)
    {
        if (!Available(c) || !ReadSource(c, ref op, out var s)) return;
        uint mx = c.Mxcsr, flags = 0;
        ulong lo = FpConvert.FloatToFloat(s.Lo, FpFormat.Double, FpFormat.Single, mx, ref flags);
        ulong hi = FpConvert.FloatToFloat(s.Hi, FpFormat.Double, FpFormat.Single, mx, ref flags);
        if (SignalSimd(c, flags)) c.XmmRegs[op.R0] = new Xmm(lo | hi << 32, 0);
    }

    /// <summary>CVTPS2PD: the two low floats (xmm or m64) to two doubles.</summary>
    public static void Ps2Pd(Cpu c, ref DecodedOp op)
    {
        if (!Available(c) || !ReadScalar(c, ref op, 8, out ulong s)) return;
        uint mx = c.Mxcsr, flags = 0;
        ulong lo = FpConvert.FloatToFloat((uint)s, FpFormat.Single, FpFormat.Double, mx, ref flags);
        ulong hi = FpConvert.FloatToFloat((uint)(s >> 32), FpFormat.Single, FpFormat.Double, mx, ref flags);
        if (SignalSimd(c, flags)) c.XmmRegs[op.R0] = new Xmm(lo, hi);
    }
}
