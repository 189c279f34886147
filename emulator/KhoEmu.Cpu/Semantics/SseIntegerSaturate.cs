using System.Runtime.Intrinsics;
using KhoEmu.Cpu.Decode;

namespace KhoEmu.Cpu.Semantics;

/// <summary>
/// SSE2 packed integer operations with saturation, averaging, multiply-add and sum of absolute differences
/// (SDM vol. 2: PACKSSWB/PACKSSDW, PACKUSWB, PADDS*/PADDUS*, PSUBS*/PSUBUS*, PAVGB/PAVGW, PMADDWD, PMULHW, PMULHUW,
/// PSADBW). The XMM forms only; the MMX-register forms are stopped before dispatch (the MMX file is not modelled).
/// </summary>
internal static partial class Sse
{
    private static sbyte SatS8(int v) => (sbyte)Math.Clamp(v, sbyte.MinValue, sbyte.MaxValue);
    private static byte SatU8(int v) => (byte)Math.Clamp(v, 0, byte.MaxValue);
    private static short SatS16(int v) => (short)Math.Clamp(v, short.MinValue, short.MaxValue);
    private static ushort SatU16(int v) => (ushort)Math.Clamp(v, 0, ushort.MaxValue);

    /// <summary>Byte lanes: dest[i] = f(dest[i], src[i]).</summary>
    private static void Bytes(Cpu c, ref DecodedOp op, Func<byte, byte, byte> f)
    {
        if (!Available(c) || !ReadSource(c, ref op, out var src)) return;
        var a = V(c.XmmRegs[op.R0]).AsByte();
        var b = V(src).AsByte();
        Span<byte> r = stackalloc byte[16];
        for (int i = 0; i < 16; i++) r[i] = f(a.GetElement(i), b.GetElement(i));
        c.XmmRegs[op.R0] = X(Vector128.Create<byte>(r).AsUInt64());
    }

    /// <summary>Word lanes: dest[i] = f(dest[i], src[i]).</summary>
    private static void Words(Cpu c, ref DecodedOp op, Func<ushort, ushort, ushort> f)
    {
        if (!Available(c) || !ReadSource(c, ref op, out var src)) return;
        var a = V(c.XmmRegs[op.R0]).AsUInt16();
        var b = V(src).AsUInt16();
        Span<ushort> r = stackalloc ushort[8];
        for (int i = 0; i < 8; i++) r[i] = f(a.GetElement(i), b.GetElement(i));
        c.XmmRegs[op.R0] = X(Vector128.Create<ushort>(r).AsUInt64());
    }

    public static void Paddsb(Cpu c, ref DecodedOp op) => Bytes(c, ref op, static (a, b) => (byte)SatS8((sbyte)a + (sbyte)b));
    public static void Paddusb(Cpu c, ref DecodedOp op) => Bytes(c, ref op, static (a, b) => SatU8(a + b));
    public static void Psubsb(Cpu c, ref DecodedOp op) => Bytes(c, ref op, static (a, b) => (byte)SatS8((sbyte)a - (sbyte)b));
    public static void Psubusb(Cpu c, ref DecodedOp op) => Bytes(c, ref op, static (a, b) => SatU8(a - b));
    public static void Pavgb(Cpu c, ref DecodedOp op) => Bytes(c, ref op, static (a, b) => (byte)((a + b + 1) >> 1));
    public static void Paddsw(Cpu c, ref DecodedOp op) => Words(c, ref op, static (a, b) => (ushort)SatS16((short)a + (short)b));
    public static void Paddusw(Cpu c, ref DecodedOp op) => Words(c, ref op, static (a, b) => SatU16(a + b));
    public static void Psubsw(Cpu c, ref DecodedOp op) => Words(c, ref op, static (a, b) => (ushort)SatS16((short)a - (short)b));
    public static void Psubusw(Cpu c, ref DecodedOp op) => Words(c, ref op, static (a, b) => SatU16(a - b));
    public static void Pavgw(Cpu c, ref DecodedOp op) => Words(c, ref op, static (a, b) => (ushort)((a + b + 1) >> 1));
    public static void Pmulhw(Cpu c, ref DecodedOp op) => Words(c, ref op, static (a, b) => (ushort)(((short)a * (short)b) >> 16));
    public static void Pmulhuw(Cpu c, ref DecodedOp op) => Words(c, ref op, static (a, b) => (ushort)(((uint)a * b) >> 16));

    /// <summary>PACKSSWB/PACKUSWB: the eight words of dest then of src, saturated to bytes.</summary>
    public static void PackWordsToBytes(Cpu c, ref DecodedOp op)
    {
        if (!Available(c) || !ReadSource(c, ref op, out var src)) return;
        bool unsigned = op.Insn.Mnemonic == Iced.Intel.Mnemonic.Packuswb;
        var a = V(c.XmmRegs[op.R0]).AsInt16();
        var b = V(src).AsInt16();
        Span<byte> r = stackalloc byte[16];
        for (int i = 0; i < 8; i++)
        {
            r[i] = unsigned ? SatU8(a.GetElement(i)) : (byte)SatS8(a.GetElement(i));
            r[i + 8] = unsigned ? SatU8(b.GetElement(i)) : (byte)SatS8(b.GetElement(i));
        }
        c.XmmRegs[op.R0] = X(Vector128.Create<byte>(r).AsUInt64());
    }

    /// <summary>PACKSSDW: the four dwords of dest then of src, saturated to signed words.</summary>
    public static void Packssdw(Cpu c, ref DecodedOp op)
    {
        if (!Available(c) || !ReadSource(c, ref op, out var src)) return;
        var a = V(c.XmmRegs[op.R0]).AsInt32();
        var b = V(src).AsInt32();
        Span<short> r = stackalloc short[8];
        for (int i = 0; i < 4; i++)
        {
            r[i] = SatS16(a.GetElement(i));
            r[i + 4] = SatS16(b.GetElement(i));
        }
        c.XmmRegs[op.R0] = X(Vector128.Create<short>(r).AsUInt64());
    }

    /// <summary>PMADDWD: dword i = dest.w[2i]*src.w[2i] + dest.w[2i+1]*src.w[2i+1], wrapping (only four -32768 words
    /// overflow, giving 80000000H as the SDM says).</summary>
    public static void Pmaddwd(Cpu c, ref DecodedOp op)
    {
        if (!Available(c) || !ReadSource(c, ref op, out var src)) return;
        var a = V(c.XmmRegs[op.R0]).AsInt16();
        var b = V(src).AsInt16();
        Span<int> r = stackalloc int[4];
        for (int i = 0; i < 4; i++)
            r[i] = unchecked(a.GetElement(2 * i) * b.GetElement(2 * i) + a.GetElement(2 * i + 1) * b.GetElement(2 * i + 1));
        c.XmmRegs[op.R0] = X(Vector128.Create<int>(r).AsUInt64());
    }

    /// <summary>PSADBW: per quadword, the sum of the eight absolute byte differences in its low word, the rest zero.</summary>
    public static void Psadbw(Cpu c, ref DecodedOp op)
    {
        if (!Available(c) || !ReadSource(c, ref op, out var src)) return;
        var a = V(c.XmmRegs[op.R0]).AsByte();
        var b = V(src).AsByte();
        ulong lo = 0, hi = 0;
        for (int i = 0; i < 8; i++)
        {
            lo += (ulong)Math.Abs(a.GetElement(i) - b.GetElement(i));
            hi += (ulong)Math.Abs(a.GetElement(i + 8) - b.GetElement(i + 8));
        }
        c.XmmRegs[op.R0] = new State.Xmm(lo, hi);
    }
}
