using System.Numerics;
using KhoEmu.Cpu.Decode;

namespace KhoEmu.Cpu.Semantics;

/// <summary>SHL/SAL, SHR, SAR, ROL, ROR, RCL, RCR, SHLD, SHRD (Intel SDM vol. 2, SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR).</summary>
internal static class Shift
{
    private static int CountOf(Cpu c, ref DecodedOp op)
    {
        ulong raw = op.K1 switch
        {
            OperandKind.Immediate => op.Imm,
            OperandKind.Register => c.GetReg(op.R1, 1),
            _ => 1,
        };
        return (int)(raw & (op.Size == 8 ? 63UL : 31UL));
    }

    private static ulong Mask(int size) => size == 8 ? ulong.MaxValue : (1UL << (size * 8)) - 1;

    private static bool Msb(ulong v, int size) => ((v >> (size * 8 - 1)) & 1) != 0;

    private static bool Parity(ulong v) => (BitOperations.PopCount(v & 0xFF) & 1) == 0;

    /// <summary>Runs <paramref name="f"/> on the destination (register or memory) when the count is non-zero.</summary>
    private static void Apply(Cpu c, ref DecodedOp op, Func<Cpu, ulong, int, int, ulong> f)
    {
        int count = CountOf(c, ref op);
        int s = op.Size;
        if (op.K0 == OperandKind.Register)
        {
            if (count == 0) { if (s == 4) c.SetReg(op.R0, 4, c.GetReg(op.R0, 4)); return; }
            c.SetReg(op.R0, s, f(c, c.GetReg(op.R0, s), count, s));
            return;
        }
        ulong la = c.OperandLinear(ref op);
        ulong a = c.ReadLinear(la, s);
        if (c.Faulted || count == 0 || !c.ProbeWrite(la, s)) return;
        c.WriteLinear(la, s, f(c, a, count, s));
    }

    private static readonly Func<Cpu, ulong, int, int, ulong> ShlF = (c, a, n, s) =>
    {
        int bits = s * 8;
        ulong r = n >= 64 ? 0 : (a << n) & Mask(s);
        bool cf = n <= bits && ((a >> (bits - n)) & 1) != 0;
        c.SetArithFlags(cf, Parity(r), false, r == 0, Msb(r, s), Msb(r, s) ^ cf);
        return r;
    };

    private static readonly Func<Cpu, ulong, int, int, ulong> ShrF = (c, a, n, s) =>
    {
        a &= Mask(s);
        ulong r = a >> n;
        bool cf = ((a >> (n - 1)) & 1) != 0;
        c.SetArithFlags(cf, Parity(r), false, r == 0, Msb(r, s), Msb(a, s));
        return r;
    };

    private static readonly Func<Cpu, ulong, int, int, ulong> SarF = (c, a, n, s) =>
    {
        int bits = s * 8;
        long sa = (long)(a << (64 - bits)) >> (64 - bits);
        ulong r = (ulong)(sa >> Math.Min(n, 63)) & Mask(s);
        bool cf = ((sa >> Math.Min(n - 1, 63)) & 1) != 0;
        c.SetArithFlags(cf, Parity(r), false, r == 0, Msb(r, s), false);
        return r;
    };

    private static readonly Func<Cpu, ulong, int, int, ulong> RolF = (c, a, n, s) =>
    {
        int bits = s * 8;
        int k = n % bits;
        a &= Mask(s);
        ulong r = k == 0 ? a : ((a << k) | (a >> (bits - k))) & Mask(s);
        bool cf = (r & 1) != 0;
        c.SetArithFlags(cf, c.PF, c.AF, c.ZF, c.SF, Msb(r, s) ^ cf);
        return r;
    };

    private static readonly Func<Cpu, ulong, int, int, ulong> RorF = (c, a, n, s) =>
    {
        int bits = s * 8;
        int k = n % bits;
        a &= Mask(s);
        ulong r = k == 0 ? a : ((a >> k) | (a << (bits - k))) & Mask(s);
        bool cf = Msb(r, s);
        c.SetArithFlags(cf, c.PF, c.AF, c.ZF, c.SF, cf ^ (((r >> (bits - 2)) & 1) != 0));
        return r;
    };

    private static readonly Func<Cpu, ulong, int, int, ulong> RclF = (c, a, n, s) =>
    {
        int bits = s * 8;
        int k = n % (bits + 1);
        UInt128 v = ((UInt128)(a & Mask(s))) | ((UInt128)(c.CF ? 1UL : 0) << bits);
        UInt128 all = (UInt128.One << (bits + 1)) - 1;
        UInt128 rot = k == 0 ? v : ((v << k) | (v >> (bits + 1 - k))) & all;
        ulong r = (ulong)rot & Mask(s);
        bool cf = ((rot >> bits) & 1) != 0;
        c.SetArithFlags(cf, c.PF, c.AF, c.ZF, c.SF, Msb(r, s) ^ cf);
        return r;
    };

    private static readonly Func<Cpu, ulong, int, int, ulong> RcrF = (c, a, n, s) =>
    {
        int bits = s * 8;
        int k = n % (bits + 1);
        bool cfIn = c.CF;
        UInt128 v = ((UInt128)(a & Mask(s))) | ((UInt128)(cfIn ? 1UL : 0) << bits);
        UInt128 all = (UInt128.One << (bits + 1)) - 1;
        UInt128 rot = k == 0 ? v : ((v >> k) | (v << (bits + 1 - k))) & all;
        ulong r = (ulong)rot & Mask(s);
        bool cf = ((rot >> bits) & 1) != 0;
        c.SetArithFlags(cf, c.PF, c.AF, c.ZF, c.SF, Msb(r, s) ^ (((r >> (bits - 2)) & 1) != 0));
        return r;
    };

    public static void Shl(Cpu c, ref DecodedOp op) => Apply(c, ref op, ShlF);
    public static void Shr(Cpu c, ref DecodedOp op) => Apply(c, ref op, ShrF);
    public static void Sar(Cpu c, ref DecodedOp op) => Apply(c, ref op, SarF);
    public static void Rol(Cpu c, ref DecodedOp op) => Apply(c, ref op, RolF);
    public static void Ror(Cpu c, ref DecodedOp op) => Apply(c, ref op, RorF);
    public static void Rcl(Cpu c, ref DecodedOp op) => Apply(c, ref op, RclF);
    public static void Rcr(Cpu c, ref DecodedOp op) => Apply(c, ref op, RcrF);

    /// <summary>SHLD / SHRD: shift the destination, filling from the source register.</summary>
    public static void DoubleShift(Cpu c, ref DecodedOp op)
    {
        int s = op.Size, bits = s * 8;
        ulong raw = op.K2 == OperandKind.Immediate ? op.Imm : c.GetReg(Cpu.RCX, 1);
        int n = (int)(raw & (s == 8 ? 63UL : 31UL));
        bool left = op.Insn.Mnemonic == Iced.Intel.Mnemonic.Shld;
        ulong src = c.GetReg(op.R1, s);
        ulong a;
        ulong la = 0;
        if (op.K0 == OperandKind.Register) a = c.GetReg(op.R0, s);
        else
        {
            la = c.OperandLinear(ref op);
            a = c.ReadLinear(la, s);
            if (c.Faulted) return;
        }
        if (n == 0) { if (op.K0 == OperandKind.Register && s == 4) c.SetReg(op.R0, 4, a); return; }
        if (op.K0 != OperandKind.Register && !c.ProbeWrite(la, s)) return;
        // Build the concatenation in 128 bits; for 16-bit counts over 16 the result is undefined (this follows the
        // 32-bit pattern).
        UInt128 cat = left ? ((UInt128)a << bits) | src : ((UInt128)src << bits) | a;
        ulong r;
        bool cf;
        if (left)
        {
            UInt128 shifted = cat << n;
            r = (ulong)(shifted >> bits) & Mask(s);
            cf = ((cat >> (2 * bits - n)) & 1) != 0;
        }
        else
        {
            r = (ulong)(cat >> n) & Mask(s);
            cf = ((cat >> (n - 1)) & 1) != 0;
        }
        bool of = Msb(r, s) != Msb(a, s);
        c.SetArithFlags(cf, Parity(r), false, r == 0, Msb(r, s), of);
        if (op.K0 == OperandKind.Register) c.SetReg(op.R0, s, r);
        else c.WriteLinear(la, s, r);
    }
}
