using System.Runtime.Intrinsics;
using Iced.Intel;
using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu.Semantics;

/// <summary>SSE/SSE2 floating point: scalar and packed arithmetic, comparisons, conversions.</summary>
internal static partial class Sse
{
    /// <summary>Reads the scalar source (low 4 or 8 bytes of an XMM register, or memory of that size).</summary>
    private static bool ReadScalar(Cpu c, ref DecodedOp op, int size, out ulong v)
    {
        if (op.K1 == OperandKind.Register && op.Insn.Op1Register.IsXMM()) { v = c.XmmRegs[op.R1].Lo; return true; }
        v = c.Read(op.Seg, c.Ea(ref op), size);
        return !c.Faulted;
    }

    public static void ScalarDouble(Cpu c, ref DecodedOp op, Func<double, double, double> f)
    {
        if (!Available(c) || !ReadScalar(c, ref op, 8, out ulong s)) return;
        ref Xmm d = ref c.XmmRegs[op.R0];
        d.Lo = (ulong)BitConverter.DoubleToInt64Bits(f(BitConverter.Int64BitsToDouble((long)d.Lo), BitConverter.Int64BitsToDouble((long)s)));
    }

    public static void ScalarSingle(Cpu c, ref DecodedOp op, Func<float, float, float> f)
    {
        if (!Available(c) || !ReadScalar(c, ref op, 4, out ulong s)) return;
        ref Xmm d = ref c.XmmRegs[op.R0];
        float r = f(BitConverter.Int32BitsToSingle((int)d.Lo), BitConverter.Int32BitsToSingle((int)s));
        d.Lo = (d.Lo & 0xFFFF_FFFF_0000_0000) | (uint)BitConverter.SingleToInt32Bits(r);
    }

    public static void PackedDouble(Cpu c, ref DecodedOp op, Func<double, double, double> f)
    {
        if (!Available(c) || !ReadSource(c, ref op, out var s)) return;
        ref Xmm d = ref c.XmmRegs[op.R0];
        static double D(ulong u) => BitConverter.Int64BitsToDouble((long)u);
        static ulong U(double x) => (ulong)BitConverter.DoubleToInt64Bits(x);
        d = new Xmm(U(f(D(d.Lo), D(s.Lo))), U(f(D(d.Hi), D(s.Hi))));
    }

    public static void PackedSingle(Cpu c, ref DecodedOp op, Func<float, float, float> f)
    {
        if (!Available(c) || !ReadSource(c, ref op, out var s)) return;
        var dv = V(c.XmmRegs[op.R0]).As<ulong, float>();
        var sv = V(s).As<ulong, float>();
        var r = System.Runtime.Intrinsics.Vector128.Create(f(dv[0], sv[0]), f(dv[1], sv[1]), f(dv[2], sv[2]), f(dv[3], sv[3]));
        c.XmmRegs[op.R0] = X(r.As<float, ulong>());
    }

    /// <summary>UCOMISD/COMISD/UCOMISS/COMISS: ZF, PF, CF from the comparison; OF, SF, AF cleared.</summary>
    public static void CompareToFlags(Cpu c, ref DecodedOp op)
    {
        bool single = op.Insn.Mnemonic is Iced.Intel.Mnemonic.Ucomiss or Iced.Intel.Mnemonic.Comiss;
        if (!Available(c) || !ReadScalar(c, ref op, single ? 4 : 8, out ulong s)) return;
        ulong dl = c.XmmRegs[op.R0].Lo;
        double a = single ? BitConverter.Int32BitsToSingle((int)dl) : BitConverter.Int64BitsToDouble((long)dl);
        double b = single ? BitConverter.Int32BitsToSingle((int)s) : BitConverter.Int64BitsToDouble((long)s);
        bool unordered = double.IsNaN(a) || double.IsNaN(b);
        c.SetArithFlags(unordered || a < b, unordered, false, unordered || a == b, false, false);
    }

    private static bool Predicate(int imm, double a, double b) => (imm & 7) switch
    {
        0 => a == b,
        1 => a < b,
        2 => a <= b,
        3 => double.IsNaN(a) || double.IsNaN(b),
        4 => !(a == b),
        5 => !(a < b),
        6 => !(a <= b),
        _ => !double.IsNaN(a) && !double.IsNaN(b),
    };

    /// <summary>CMPSD/CMPSS/CMPPD/CMPPS with an immediate predicate: all-ones where true.</summary>
    public static void CompareMask(Cpu c, ref DecodedOp op)
    {
        if (!Available(c)) return;
        var m = op.Insn.Mnemonic;
        int imm = (int)op.Imm;
        ref Xmm d = ref c.XmmRegs[op.R0];
        if (m is Iced.Intel.Mnemonic.Cmpsd or Iced.Intel.Mnemonic.Cmpss)
        {
            bool dbl = m == Iced.Intel.Mnemonic.Cmpsd;
            if (!ReadScalar(c, ref op, dbl ? 8 : 4, out ulong s)) return;
            if (dbl) d.Lo = Predicate(imm, BitConverter.Int64BitsToDouble((long)d.Lo), BitConverter.Int64BitsToDouble((long)s)) ? ulong.MaxValue : 0;
            else
            {
                bool t = Predicate(imm, BitConverter.Int32BitsToSingle((int)d.Lo), BitConverter.Int32BitsToSingle((int)s));
                d.Lo = (d.Lo & 0xFFFF_FFFF_0000_0000) | (t ? 0xFFFF_FFFFUL : 0);
            }
            return;
        }
        if (!ReadSource(c, ref op, out var src)) return;
        if (m == Iced.Intel.Mnemonic.Cmppd)
        {
            static double D(ulong u) => BitConverter.Int64BitsToDouble((long)u);
            d = new Xmm(Predicate(imm, D(d.Lo), D(src.Lo)) ? ulong.MaxValue : 0, Predicate(imm, D(d.Hi), D(src.Hi)) ? ulong.MaxValue : 0);
            return;
        }
        var dv = V(d).As<ulong, float>();
        var sv = V(src).As<ulong, float>();
        Span<uint> r = stackalloc uint[4];
        for (int i = 0; i < 4; i++) r[i] = Predicate(imm, dv[i], sv[i]) ? uint.MaxValue : 0;
        d = X(System.Runtime.Intrinsics.Vector128.Create<uint>(r).As<uint, ulong>());
    }

    /// <summary>CVTSI2SD/CVTSI2SS: signed integer (r/m32 or r/m64) to the low element.</summary>
    public static void IntToScalar(Cpu c, ref DecodedOp op)
    {
        if (!Available(c)) return;
        ulong raw = c.Load1(ref op);
        if (c.Faulted) return;
        long v = op.SrcSize == 8 ? (long)raw : (int)raw;
        ref Xmm d = ref c.XmmRegs[op.R0];
        if (op.Insn.Mnemonic == Iced.Intel.Mnemonic.Cvtsi2sd) d.Lo = (ulong)BitConverter.DoubleToInt64Bits(v);
        else d.Lo = (d.Lo & 0xFFFF_FFFF_0000_0000) | (uint)BitConverter.SingleToInt32Bits(v);
    }

    /// <summary>CVT(T)SD2SI/CVT(T)SS2SI: truncating or MXCSR-rounded; out of range gives the integer indefinite.</summary>
    public static void ScalarToInt(Cpu c, ref DecodedOp op)
    {
        if (!Available(c)) return;
        var m = op.Insn.Mnemonic;
        bool single = m is Iced.Intel.Mnemonic.Cvtss2si or Iced.Intel.Mnemonic.Cvttss2si;
        bool truncate = m is Iced.Intel.Mnemonic.Cvttsd2si or Iced.Intel.Mnemonic.Cvttss2si;
        if (!ReadScalar(c, ref op, single ? 4 : 8, out ulong s)) return;
        double x = single ? BitConverter.Int32BitsToSingle((int)s) : BitConverter.Int64BitsToDouble((long)s);
        x = truncate ? Math.Truncate(x) : RoundMxcsr(c, x);
        int size = op.Size;
        double lo = size == 8 ? -9223372036854775808.0 : int.MinValue;
        double hi = size == 8 ? 9223372036854775808.0 : 2147483648.0;
        ulong r = double.IsNaN(x) || x < lo || x >= hi
            ? (size == 8 ? 0x8000_0000_0000_0000UL : 0x8000_0000UL)
            : (ulong)(long)x;
        c.SetReg(op.R0, size, r);
    }

    private static double RoundMxcsr(Cpu c, double x) => ((c.Mxcsr >> 13) & 3) switch
    {
        0 => Math.Round(x, MidpointRounding.ToEven),
        1 => Math.Floor(x),
        2 => Math.Ceiling(x),
        _ => Math.Truncate(x),
    };

    public static void SdToSs(Cpu c, ref DecodedOp op)
    {
        if (!Available(c) || !ReadScalar(c, ref op, 8, out ulong s)) return;
        ref Xmm d = ref c.XmmRegs[op.R0];
        d.Lo = (d.Lo & 0xFFFF_FFFF_0000_0000) | (uint)BitConverter.SingleToInt32Bits((float)BitConverter.Int64BitsToDouble((long)s));
    }

    public static void SsToSd(Cpu c, ref DecodedOp op)
    {
        if (!Available(c) || !ReadScalar(c, ref op, 4, out ulong s)) return;
        c.XmmRegs[op.R0].Lo = (ulong)BitConverter.DoubleToInt64Bits(BitConverter.Int32BitsToSingle((int)s));
    }

    public static void Dq2Pd(Cpu c, ref DecodedOp op)
    {
        if (!Available(c) || !ReadScalar(c, ref op, 8, out ulong s)) return;
        c.XmmRegs[op.R0] = new Xmm((ulong)BitConverter.DoubleToInt64Bits((int)s), (ulong)BitConverter.DoubleToInt64Bits((int)(s >> 32)));
    }

    public static void Sqrt(Cpu c, ref DecodedOp op)
    {
        var m = op.Insn.Mnemonic;
        if (m == Iced.Intel.Mnemonic.Sqrtsd) ScalarDouble(c, ref op, static (_, b) => Math.Sqrt(b));
        else if (m == Iced.Intel.Mnemonic.Sqrtss) ScalarSingle(c, ref op, static (_, b) => MathF.Sqrt(b));
        else if (m == Iced.Intel.Mnemonic.Sqrtpd) PackedDouble(c, ref op, static (_, b) => Math.Sqrt(b));
        else PackedSingle(c, ref op, static (_, b) => MathF.Sqrt(b));
    }
}
