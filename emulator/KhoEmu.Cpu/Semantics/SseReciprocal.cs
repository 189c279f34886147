using Iced.Intel;
using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu.Semantics;

/// <summary>
/// RCPPS/RCPSS and RSQRTPS/RSQRTSS (SDM vol. 2). The SDM only bounds the relative error (|error| &lt;= 1.5 * 2^-12);
/// Intel and AMD hardware give different approximations. This implementation is deterministic and nearly exact, as
/// QEMU's TCG (which divides exactly): 1/x or 1/sqrt(x) computed in double precision, rounded to single (error
/// below 2^-23). The special cases are the SDM's: a zero or denormal source is a zero of its sign (result +/-inf),
/// +/-inf gives +/-0, a tiny reciprocal is flushed to a zero of the operand's sign, RSQRT of a negative non-zero value
/// is the QNaN indefinite, a NaN is returned quieted. No MXCSR exception is ever signalled; MXCSR.RC is not used.
/// </summary>
internal static partial class Sse
{
    private const uint SignBit = 0x8000_0000, ExpMask32 = 0x7F80_0000, QuietBit = 0x0040_0000, QNaNIndefinite = 0xFFC0_0000;

    internal static uint Reciprocal(uint x)
    {
        uint sign = x & SignBit, mag = x & ~SignBit;
        if (mag > ExpMask32) return x | QuietBit;
        if ((mag & ExpMask32) == 0) return sign | ExpMask32;
        if (mag == ExpMask32) return sign;
        uint r = BitConverter.SingleToUInt32Bits((float)(1.0 / BitConverter.UInt32BitsToSingle(x)));
        return (r & ExpMask32) == 0 ? sign : r;
    }

    internal static uint ReciprocalSqrt(uint x)
    {
        uint sign = x & SignBit, mag = x & ~SignBit;
        if (mag > ExpMask32) return x | QuietBit;
        if ((mag & ExpMask32) == 0) return sign | ExpMask32;
        if (sign != 0) return QNaNIndefinite;
        if (mag == ExpMask32) return 0;
        return BitConverter.SingleToUInt32Bits((float)(1.0 / Math.Sqrt(BitConverter.UInt32BitsToSingle(x))));
    }

    public static void ReciprocalApprox(Cpu c, ref DecodedOp op)
    {
        if (!Available(c)) return;
        var m = op.Insn.Mnemonic;
        Func<uint, uint> f = m is Mnemonic.Rcpps or Mnemonic.Rcpss ? Reciprocal : ReciprocalSqrt;
        ref Xmm d = ref c.XmmRegs[op.R0];
        if (m is Mnemonic.Rcpss or Mnemonic.Rsqrtss)
        {
            if (!ReadScalar(c, ref op, 4, out ulong s)) return;
            d.Lo = (d.Lo & 0xFFFF_FFFF_0000_0000) | f((uint)s);
            return;
        }
        if (!ReadSource(c, ref op, out var src)) return;
        d = new Xmm(f((uint)src.Lo) | (ulong)f((uint)(src.Lo >> 32)) << 32, f((uint)src.Hi) | (ulong)f((uint)(src.Hi >> 32)) << 32);
    }
}
