using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.SseFloat;
using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu.Semantics;

/// <summary>
/// SSE3 (Intel SDM vol. 2, the instructions; vol. 1, 12.5): horizontal and alternating add/subtract and the
/// duplicating moves. LDDQU is MOVDQU's handler and FISTTP an x87 handler. The arithmetic lanes go through the MXCSR-aware
/// core (<see cref="FpArith"/>), as the SSE/SSE2 ones. 128-bit memory sources must be 16-byte aligned, except MOVDDUP's
/// 64-bit one.
/// </summary>
internal static class Sse3
{
    private static bool Operands(Cpu c, ref DecodedOp op, out Xmm s) { s = default; return Sse.Available(c) && Sse.ReadSource(c, ref op, out s); }

    /// <summary>Two double lanes r.Lo = x0 op0 y0, r.Hi = x1 op1 y1, committed under MXCSR.</summary>
    private static void Pd(Cpu c, ref DecodedOp op, bool horizontal, FpOp lo, FpOp hi)
    {
        if (!Operands(c, ref op, out var s)) return;
        Xmm d = c.XmmRegs[op.R0];
        uint mx = c.Mxcsr, flags = 0;
        Xmm r = horizontal
            ? new Xmm(FpArith.Double(lo, d.Lo, d.Hi, mx, ref flags), FpArith.Double(hi, s.Lo, s.Hi, mx, ref flags))
            : new Xmm(FpArith.Double(lo, d.Lo, s.Lo, mx, ref flags), FpArith.Double(hi, d.Hi, s.Hi, mx, ref flags));
        if (Sse.SignalSimd(c, flags)) c.XmmRegs[op.R0] = r;
    }

    /// <summary>Four single lanes: horizontal pairs of dest then source, or lane-wise with op0/op1 alternating.</summary>
    private static void Ps(Cpu c, ref DecodedOp op, bool horizontal, FpOp even, FpOp odd)
    {
        if (!Operands(c, ref op, out var s)) return;
        Xmm d = c.XmmRegs[op.R0], r = default;
        uint mx = c.Mxcsr, flags = 0;
        for (int i = 0; i < 4; i++)
        {
            Xmm from = i < 2 ? d : s;
            uint v = horizontal
                ? FpArith.Single(even, Sse.Lane32(from, 2 * (i & 1)), Sse.Lane32(from, 2 * (i & 1) + 1), mx, ref flags)
                : FpArith.Single((i & 1) == 0 ? even : odd, Sse.Lane32(d, i), Sse.Lane32(s, i), mx, ref flags);
            Sse.SetLane32(ref r, i, v);
        }
        if (Sse.SignalSimd(c, flags)) c.XmmRegs[op.R0] = r;
    }

    public static void Haddpd(Cpu c, ref DecodedOp op) => Pd(c, ref op, true, FpOp.Add, FpOp.Add);
    public static void Hsubpd(Cpu c, ref DecodedOp op) => Pd(c, ref op, true, FpOp.Sub, FpOp.Sub);
    public static void Addsubpd(Cpu c, ref DecodedOp op) => Pd(c, ref op, false, FpOp.Sub, FpOp.Add);
    public static void Haddps(Cpu c, ref DecodedOp op) => Ps(c, ref op, true, FpOp.Add, FpOp.Add);
    public static void Hsubps(Cpu c, ref DecodedOp op) => Ps(c, ref op, true, FpOp.Sub, FpOp.Sub);
    public static void Addsubps(Cpu c, ref DecodedOp op) => Ps(c, ref op, false, FpOp.Sub, FpOp.Add);

    /// <summary>MOVSLDUP: the even single-precision lanes duplicated (0, 0, 2, 2).</summary>
    public static void Movsldup(Cpu c, ref DecodedOp op)
    {
        if (!Operands(c, ref op, out var s)) return;
        c.XmmRegs[op.R0] = new Xmm((s.Lo & 0xFFFF_FFFF) * 0x1_0000_0001, (s.Hi & 0xFFFF_FFFF) * 0x1_0000_0001);
    }

    /// <summary>MOVSHDUP: the odd single-precision lanes duplicated (1, 1, 3, 3).</summary>
    public static void Movshdup(Cpu c, ref DecodedOp op)
    {
        if (!Operands(c, ref op, out var s)) return;
        c.XmmRegs[op.R0] = new Xmm((s.Lo >> 32) * 0x1_0000_0001, (s.Hi >> 32) * 0x1_0000_0001);
    }

    /// <summary>MOVDDUP: the low double (a 64-bit memory operand, no alignment) in both lanes.</summary>
    public static void Movddup(Cpu c, ref DecodedOp op)
    {
        if (!Sse.Available(c)) return;
        ulong v;
        if (op.K1 == OperandKind.Register) v = c.XmmRegs[op.R1].Lo;
        else { v = c.Read(op.Seg, c.Ea(ref op), 8); if (c.Faulted) return; }
        c.XmmRegs[op.R0] = new Xmm(v, v);
    }
}
