using Iced.Intel;
using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu.Semantics;

/// <summary>
/// MINPS/MINSS/MINPD/MINSD and MAXPS/MAXSS/MAXPD/MAXSD (SDM vol. 2) on raw lane bits, with their MXCSR exceptions:
/// the result is dest when dest &lt; src (MIN) or dest &gt; src (MAX), else src, so the second (source) operand is
/// returned when either is a NaN (SNaN or QNaN, unchanged, not quieted) or both are zeros of either sign. A NaN
/// operand of either kind signals invalid (IE); otherwise a denormal operand signals DE (invalid has precedence within
/// a lane, SDM vol. 1, 11.5.2.2). With MXCSR.DAZ a denormal operand is a zero of its sign before anything else (a
/// denormal source returned because dest is a NaN comes back as that zero, as the host does) and signals nothing.
/// An unmasked exception sets its flag, leaves the destination unchanged and raises #XM (#UD without
/// CR4.OSXMMEXCPT), SDM vol. 1, 11.5.1.
/// </summary>
internal static partial class Sse
{
    internal const uint MxcsrIE = 1, MxcsrDE = 2, MxcsrDaz = 1 << 6;

    public static void MinMax(Cpu c, ref DecodedOp op)
    {
        if (!Available(c)) return;
        var m = op.Insn.Mnemonic;
        bool max = m is Mnemonic.Maxps or Mnemonic.Maxss or Mnemonic.Maxpd or Mnemonic.Maxsd;
        bool dbl = m is Mnemonic.Minpd or Mnemonic.Minsd or Mnemonic.Maxpd or Mnemonic.Maxsd;
        bool scalar = m is Mnemonic.Minss or Mnemonic.Minsd or Mnemonic.Maxss or Mnemonic.Maxsd;
        Xmm src;
        if (scalar)
        {
            if (!ReadScalar(c, ref op, dbl ? 8 : 4, out ulong s)) return;
            src = new Xmm(s, 0);
        }
        else if (!ReadSource(c, ref op, out src)) return;
        Xmm d = c.XmmRegs[op.R0];
        uint flags = 0;
        Xmm r = d;
        if (dbl)
        {
            r.Lo = MinMax64(d.Lo, src.Lo, max, c.Mxcsr, ref flags);
            if (!scalar) r.Hi = MinMax64(d.Hi, src.Hi, max, c.Mxcsr, ref flags);
        }
        else
        {
            int lanes = scalar ? 1 : 4;
            for (int i = 0; i < lanes; i++)
            {
                ref ulong q = ref i < 2 ? ref r.Lo : ref r.Hi;
                int shift = (i & 1) * 32;
                uint a = (uint)((i < 2 ? d.Lo : d.Hi) >> shift), b = (uint)((i < 2 ? src.Lo : src.Hi) >> shift);
                uint v = MinMax32(a, b, max, c.Mxcsr, ref flags);
                q = (q & ~(0xFFFF_FFFFUL << shift)) | ((ulong)v << shift);
            }
        }
        if (!SignalSimd(c, flags)) return;
        c.XmmRegs[op.R0] = r;
    }

    private static ulong MinMax64(ulong a, ulong b, bool max, uint mxcsr, ref uint flags)
    {
        const ulong expMask = 0x7FF0_0000_0000_0000, fracMask = 0x000F_FFFF_FFFF_FFFF;
        bool denA = (a & expMask) == 0 && (a & fracMask) != 0, denB = (b & expMask) == 0 && (b & fracMask) != 0;
        bool daz = (mxcsr & MxcsrDaz) != 0;
        if (daz && denA) a &= 1UL << 63;
        if (daz && denB) b &= 1UL << 63;
        if ((a & ~(1UL << 63)) > expMask || (b & ~(1UL << 63)) > expMask) { flags |= MxcsrIE; return b; }
        if (!daz && (denA || denB)) flags |= MxcsrDE;
        double x = BitConverter.UInt64BitsToDouble(a), y = BitConverter.UInt64BitsToDouble(b);
        return (max ? x > y : x < y) ? a : b;
    }

    private static uint MinMax32(uint a, uint b, bool max, uint mxcsr, ref uint flags)
    {
        const uint expMask = 0x7F80_0000, fracMask = 0x007F_FFFF;
        bool denA = (a & expMask) == 0 && (a & fracMask) != 0, denB = (b & expMask) == 0 && (b & fracMask) != 0;
        bool daz = (mxcsr & MxcsrDaz) != 0;
        if (daz && denA) a &= 0x8000_0000;
        if (daz && denB) b &= 0x8000_0000;
        if ((a & 0x7FFF_FFFF) > expMask || (b & 0x7FFF_FFFF) > expMask) { flags |= MxcsrIE; return b; }
        if (!daz && (denA || denB)) flags |= MxcsrDE;
        float x = BitConverter.UInt32BitsToSingle(a), y = BitConverter.UInt32BitsToSingle(b);
        return (max ? x > y : x < y) ? a : b;
    }
}
