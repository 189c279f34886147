using Iced.Intel;
using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.SseFloat;
using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu.Semantics;

/// <summary>
/// SSE/SSE2 floating point: scalar and packed arithmetic and comparisons. Each lane is computed by the MXCSR-aware
/// core in <see cref="KhoEmu.Cpu.SseFloat"/>, which returns the lane's result and ORs its exception flags; the
/// destination is written only when <see cref="SignalSimd"/> finds no unmasked exception (Intel SDM vol. 1, 11.5.1).
/// </summary>
internal static partial class Sse
{
    /// <summary>Reads the scalar source (low 4 or 8 bytes of an XMM register, or memory of that size).</summary>
    private static bool ReadScalar(Cpu c, ref DecodedOp op, int size, out ulong v)
    {
        if (op.K1 == OperandKind.Register && op.Insn.Op1Register.IsXMM()) { v = c.XmmRegs[op.R1].Lo; return true; }
        v = c.Read(op.Seg, c.Ea(ref op), size);
        return !c.Faulted;
    }

    /// <summary>Lane <paramref name="i"/> (0-3) of a register seen as four binary32 values.</summary>
    internal static uint Lane32(in Xmm v, int i) => (uint)((i < 2 ? v.Lo : v.Hi) >> (32 * (i & 1)));

    internal static void SetLane32(ref Xmm v, int i, uint x)
    {
        int shift = 32 * (i & 1);
        ref ulong q = ref i < 2 ? ref v.Lo : ref v.Hi;
        q = (q & ~(0xFFFF_FFFFUL << shift)) | ((ulong)x << shift);
    }

    /// <summary>The second operand: a full register or m128 (packed), or the low element (scalar) in Lo.</summary>
    private static bool ReadFpSource(Cpu c, ref DecodedOp op, bool dbl, bool scalar, out Xmm src)
    {
        if (!scalar) return ReadSource(c, ref op, out src);
        bool ok = ReadScalar(c, ref op, dbl ? 8 : 4, out ulong s);
        src = new Xmm(s, 0);
        return ok;
    }

    /// <summary>ADD/SUB/MUL/DIV/SQRT in their PS, SS, PD and SD forms.</summary>
    public static void Arith(Cpu c, ref DecodedOp op, FpOp fop, bool dbl, bool scalar)
    {
        if (!Available(c) || !ReadFpSource(c, ref op, dbl, scalar, out var s)) return;
        Xmm d = c.XmmRegs[op.R0], r = d;
        uint mx = c.Mxcsr, flags = 0;
        if (dbl)
        {
            r.Lo = FpArith.Double(fop, d.Lo, s.Lo, mx, ref flags);
            if (!scalar) r.Hi = FpArith.Double(fop, d.Hi, s.Hi, mx, ref flags);
        }
        else
        {
            for (int i = 0, n = scalar ? 1 : 4; i < n; i++)
                SetLane32(ref r, i, FpArith.Single(fop, Lane32(d, i), Lane32(s, i), mx, ref flags));
        }
        if (SignalSimd(c, flags)) c.XmmRegs[op.R0] = r;
    }

    /// <summary>
    /// Sets the MXCSR flags and returns true when every exception that occurred is masked. Otherwise raises #XM
    /// (#UD without CR4.OSXMMEXCPT, SDM vol. 3, 6.15 interrupt 19) and returns false so the destination stays
    /// unchanged: an unmasked pre-computation exception (IE, DE, ZE) in any lane stops before the computation, so
    /// only the pre-computation flags are set; otherwise all flags of all lanes are (SDM vol. 1, 11.5.3).
    /// </summary>
    internal static bool SignalSimd(Cpu c, uint flags)
    {
        uint unmasked = MxcsrBits.Unmasked(c.Mxcsr);
        uint pre = flags & MxcsrBits.PreComputation;
        if ((pre & unmasked) != 0) flags = pre;
        c.Mxcsr |= flags;
        if ((flags & unmasked) == 0) return true;
        c.RaiseFault((c.Cr4 & ControlBits.Cr4OSXMMEXCPT) != 0 ? Vector.XM : Vector.UD);
        return false;
    }

    /// <summary>UCOMISD/COMISD/UCOMISS/COMISS: ZF, PF, CF from the comparison; OF, SF, AF cleared.</summary>
    public static void CompareToFlags(Cpu c, ref DecodedOp op)
    {
        var m = op.Insn.Mnemonic;
        bool single = m is Iced.Intel.Mnemonic.Ucomiss or Iced.Intel.Mnemonic.Comiss;
        bool signalQuiet = m is Iced.Intel.Mnemonic.Comiss or Iced.Intel.Mnemonic.Comisd;
        if (!Available(c) || !ReadScalar(c, ref op, single ? 4 : 8, out ulong s)) return;
        ulong dl = c.XmmRegs[op.R0].Lo;
        uint flags = 0;
        int rel = single
            ? FpCompare.Relation((uint)dl, (uint)s, FpFormat.Single, signalQuiet, c.Mxcsr, ref flags)
            : FpCompare.Relation(dl, s, FpFormat.Double, signalQuiet, c.Mxcsr, ref flags);
        if (!SignalSimd(c, flags)) return;
        bool unordered = rel == 2;
        c.SetArithFlags(unordered || rel < 0, unordered, false, unordered || rel == 0, false, false);
    }

    /// <summary>CMPSD/CMPSS/CMPPD/CMPPS with an immediate predicate: all-ones where true.</summary>
    public static void CompareMask(Cpu c, ref DecodedOp op)
    {
        var m = op.Insn.Mnemonic;
        bool dbl = m is Iced.Intel.Mnemonic.Cmpsd or Iced.Intel.Mnemonic.Cmppd;
        bool scalar = m is Iced.Intel.Mnemonic.Cmpsd or Iced.Intel.Mnemonic.Cmpss;
        if (!Available(c) || !ReadFpSource(c, ref op, dbl, scalar, out var s)) return;
        int imm = (int)op.Imm;
        Xmm d = c.XmmRegs[op.R0], r = d;
        uint mx = c.Mxcsr, flags = 0;
        if (dbl)
        {
            r.Lo = FpCompare.Predicate(imm, d.Lo, s.Lo, FpFormat.Double, mx, ref flags) ? ulong.MaxValue : 0;
            if (!scalar) r.Hi = FpCompare.Predicate(imm, d.Hi, s.Hi, FpFormat.Double, mx, ref flags) ? ulong.MaxValue : 0;
        }
        else
        {
            for (int i = 0, n = scalar ? 1 : 4; i < n; i++)
                SetLane32(ref r, i, FpCompare.Predicate(imm, Lane32(d, i), Lane32(s, i), FpFormat.Single, mx, ref flags) ? uint.MaxValue : 0);
        }
        if (SignalSimd(c, flags)) c.XmmRegs[op.R0] = r;
    }

    public static void Sqrt(Cpu c, ref DecodedOp op)
    {
        var m = op.Insn.Mnemonic;
        bool dbl = m is Iced.Intel.Mnemonic.Sqrtsd or Iced.Intel.Mnemonic.Sqrtpd;
        Arith(c, ref op, FpOp.Sqrt, dbl, m is Iced.Intel.Mnemonic.Sqrtsd or Iced.Intel.Mnemonic.Sqrtss);
    }
}
