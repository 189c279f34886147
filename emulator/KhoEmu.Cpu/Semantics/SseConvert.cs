using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.SseFloat;
using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu.Semantics;

/// <summary>
/// SSE/SSE2 scalar conversions (SDM vol. 2: CVTSI2SS/SD, CVT(T)SS2SI, CVT(T)SD2SI, CVTSS2SD, CVTSD2SS) through
/// <see cref="FpConvert"/>, committed only when no unmasked exception occurred.
/// </summary>
internal static partial class Sse
{
    /// <summary>CVTSI2SD/CVTSI2SS: signed integer (r/m32 or r/m64) to the low element, rounded by MXCSR.RC.</summary>
    public static void IntToScalar(Cpu c, ref DecodedOp op)
    {
        if (!Available(c)) return;
        ulong raw = c.Load1(ref op);
        if (c.Faulted) return;
        long v = op.SrcSize == 8 ? (long)raw : (int)raw;
        bool dbl = op.Insn.Mnemonic == Iced.Intel.Mnemonic.Cvtsi2sd;
        uint flags = 0;
        ulong r = FpConvert.IntToFloat(v, dbl ? FpFormat.Double : FpFormat.Single, c.Mxcsr, ref flags);
        if (!SignalSimd(c, flags)) return;
        ref Xmm d = ref c.XmmRegs[op.R0];
        d.Lo = dbl ? r : (d.Lo & 0xFFFF_FFFF_0000_0000) | r;
    }

    /// <summary>CVT(T)SD2SI/CVT(T)SS2SI: truncating or MXCSR-rounded; NaN or out of range gives the integer indefinite.</summary>
    public static void ScalarToInt(Cpu c, ref DecodedOp op)
    {
        if (!Available(c)) return;
        var m = op.Insn.Mnemonic;
        bool single = m is Iced.Intel.Mnemonic.Cvtss2si or Iced.Intel.Mnemonic.Cvttss2si;
        bool truncate = m is Iced.Intel.Mnemonic.Cvttsd2si or Iced.Intel.Mnemonic.Cvttss2si;
        if (!ReadScalar(c, ref op, single ? 4 : 8, out ulong s)) return;
        uint flags = 0;
        ulong r = single
            ? FpConvert.FloatToInt((uint)s, FpFormat.Single, op.Size * 8, truncate, c.Mxcsr, ref flags)
            : FpConvert.FloatToInt(s, FpFormat.Double, op.Size * 8, truncate, c.Mxcsr, ref flags);
        if (SignalSimd(c, flags)) c.SetReg(op.R0, op.Size, r);
    }

    public static void SdToSs(Cpu c, ref DecodedOp op)
    {
        if (!Available(c) || !ReadScalar(c, ref op, 8, out ulong s)) return;
        uint flags = 0;
        ulong r = FpConvert.FloatToFloat(s, FpFormat.Double, FpFormat.Single, c.Mxcsr, ref flags);
        if (!SignalSimd(c, flags)) return;
        ref Xmm d = ref c.XmmRegs[op.R0];
        d.Lo = (d.Lo & 0xFFFF_FFFF_0000_0000) | r;
    }

    public static void SsToSd(Cpu c, ref DecodedOp op)
    {
        if (!Available(c) || !ReadScalar(c, ref op, 4, out ulong s)) return;
        uint flags = 0;
        ulong r = FpConvert.FloatToFloat((uint)s, FpFormat.Single, FpFormat.Double, c.Mxcsr, ref flags);
        if (SignalSimd(c, flags)) c.XmmRegs[op.R0].Lo = r;
    }
}
