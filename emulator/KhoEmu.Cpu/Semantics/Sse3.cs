using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu.Semantics;

/// <summary>
/// SSE3 (Intel SDM vol. 2, the instructions; vol. 1, 12.5): horizontal and alternating add/subtract and the
/// duplicating moves. LDDQU is MOVDQU's handler and FISTTP an x87 handler. The arithmetic is the host's, as for the
/// SSE/SSE2 lane operations (<see cref="Sse"/>). 128-bit memory sources must be 16-byte aligned, except MOVDDUP's
/// 64-bit one.
/// </summary>
internal static class Sse3
{
    private static double D(ulong u) => BitConverter.Int64BitsToDouble((long)u);
    private static ulong U(double x) => (ulong)BitConverter.DoubleToInt64Bits(x);
    private static float F(ulong u, int lane) => BitConverter.Int32BitsToSingle((int)(u >> (lane * 32)));
    private static ulong P(float lo, float hi) =>
        (uint)BitConverter.SingleToInt32Bits(lo) | ((ulong)(uint)BitConverter.SingleToInt32Bits(hi) << 32);

    private static bool Operands(Cpu c, ref DecodedOp op, out Xmm s) { s = default; return Sse.Available(c) && Sse.ReadSource(c, ref op, out s); }

    public static void Haddpd(Cpu c, ref DecodedOp op)
    {
        if (!Operands(c, ref op, out var s)) return;
        ref Xmm d = ref c.XmmRegs[op.R0];
        d = new Xmm(U(D(d.Lo) + D(d.Hi)), U(D(s.Lo) + D(s.Hi)));
    }

    public static void Hsubpd(Cpu c, ref DecodedOp op)
    {
        if (!Operands(c, ref op, out var s)) return;
        ref Xmm d = ref c.XmmRegs[op.R0];
        d = new Xmm(U(D(d.Lo) - D(d.Hi)), U(D(s.Lo) - D(s.Hi)));
    }

    public static void Addsubpd(Cpu c, ref DecodedOp op)
    {
        if (!Operands(c, ref op, out var s)) return;
        ref Xmm d = ref c.XmmRegs[op.R0];
        d = new Xmm(U(D(d.Lo) - D(s.Lo)), U(D(d.Hi) + D(s.Hi)));
    }

    public static void Haddps(Cpu c, ref DecodedOp op)
    {
        if (!Operands(c, ref op, out var s)) return;
        ref Xmm d = ref c.XmmRegs[op.R0];
        d = new Xmm(P(F(d.Lo, 0) + F(d.Lo, 1), F(d.Hi, 0) + F(d.Hi, 1)), P(F(s.Lo, 0) + F(s.Lo, 1), F(s.Hi, 0) + F(s.Hi, 1)));
    }

    public static void Hsubps(Cpu c, ref DecodedOp op)
    {
        if (!Operands(c, ref op, out var s)) return;
        ref Xmm d = ref c.XmmRegs[op.R0];
        d = new Xmm(P(F(d.Lo, 0) - F(d.Lo, 1), F(d.Hi, 0) - F(d.Hi, 1)), P(F(s.Lo, 0) - F(s.Lo, 1), F(s.Hi, 0) - F(s.Hi, 1)));
    }

    public static void Addsubps(Cpu c, ref DecodedOp op)
    {
        if (!Operands(c, ref op, out var s)) return;
        ref Xmm d = ref c.XmmRegs[op.R0];
        d = new Xmm(P(F(d.Lo, 0) - F(s.Lo, 0), F(d.Lo, 1) + F(s.Lo, 1)), P(F(d.Hi, 0) - F(s.Hi, 0), F(d.Hi, 1) + F(s.Hi, 1)));
    }

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
