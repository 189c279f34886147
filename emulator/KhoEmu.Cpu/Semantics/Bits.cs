using System.Numerics;
using KhoEmu.Cpu.Decode;

namespace KhoEmu.Cpu.Semantics;

/// <summary>BT, BTS, BTR, BTC, BSF, BSR, TZCNT, LZCNT, POPCNT.</summary>
internal static class Bits
{
    /// <summary>BT family. A register bit offset into memory addresses a bit string (SDM vol. 2, BT).</summary>
    public static void BitTest(Cpu c, ref DecodedOp op)
    {
        int s = op.Size;
        var m = op.Insn.Mnemonic;
        ulong offset = op.K1 == OperandKind.Immediate ? op.Imm : c.GetReg(op.R1, s);
        if (op.K0 == OperandKind.Register)
        {
            int bit = (int)(offset & (ulong)(s * 8 - 1));
            ulong v = c.GetReg(op.R0, s);
            c.SetFlag(State.Rflags.CF, ((v >> bit) & 1) != 0);
            ulong r = Modify(m, v, bit);
            if (m != Iced.Intel.Mnemonic.Bt) c.SetReg(op.R0, s, r);
            return;
        }
        ulong ea = c.Ea(ref op);
        int bitInUnit;
        if (op.K1 == OperandKind.Immediate) bitInUnit = (int)(offset & (ulong)(s * 8 - 1));
        else
        {
            long signed = s switch { 2 => (short)offset, 4 => (int)offset, _ => (long)offset };
            ea = (ea + (ulong)((signed >> (s == 8 ? 6 : s == 4 ? 5 : 4)) * s)) & op.AddrMask;
            bitInUnit = (int)(signed & (s * 8 - 1));
        }
        ulong la = c.Linear(op.Seg, ea);
        ulong val = c.ReadLinear(la, s);
        if (c.Faulted) return;
        if (m != Iced.Intel.Mnemonic.Bt && !c.ProbeWrite(la, s)) return;
        c.SetFlag(State.Rflags.CF, ((val >> bitInUnit) & 1) != 0);
        if (m != Iced.Intel.Mnemonic.Bt) c.WriteLinear(la, s, Modify(m, val, bitInUnit));
    }

    private static ulong Modify(Iced.Intel.Mnemonic m, ulong v, int bit) => m switch
    {
        Iced.Intel.Mnemonic.Bts => v | (1UL << bit),
        Iced.Intel.Mnemonic.Btr => v & ~(1UL << bit),
        Iced.Intel.Mnemonic.Btc => v ^ (1UL << bit),
        _ => v,
    };

    public static void Bsf(Cpu c, ref DecodedOp op) => Scan(c, ref op, forward: true);
    public static void Bsr(Cpu c, ref DecodedOp op) => Scan(c, ref op, forward: false);

    private static void Scan(Cpu c, ref DecodedOp op, bool forward)
    {
        int s = op.Size;
        ulong v = c.Load1(ref op);
        if (c.Faulted) return;
        if (v == 0)
        {
            // Destination unchanged (AMD-documented, Intel behaviour in practice); ZF set.
            c.SetArithFlags(false, false, false, true, false, false);
            return;
        }
        int idx = forward ? BitOperations.TrailingZeroCount(v) : 63 - BitOperations.LeadingZeroCount(v);
        c.SetReg(op.R0, s, (ulong)idx);
        c.SetArithFlags(false, false, false, false, false, false);
    }

    /// <summary>TZCNT; without BMI1 the F3 prefix is ignored and the encoding is BSF (SDM vol. 2B, TZCNT).</summary>
    public static void Tzcnt(Cpu c, ref DecodedOp op)
    {
        if (!c.Model.Has(CpuFeature.Bmi1)) { Bsf(c, ref op); return; }
        int s = op.Size;
        ulong v = c.Load1(ref op);
        if (c.Faulted) return;
        int n = v == 0 ? s * 8 : BitOperations.TrailingZeroCount(v);
        c.SetReg(op.R0, s, (ulong)n);
        c.SetArithFlags(v == 0, c.PF, c.AF, n == 0, c.SF, c.OF);
    }

    /// <summary>LZCNT; without the LZCNT feature the encoding is BSR (SDM vol. 2A, LZCNT).</summary>
    public static void Lzcnt(Cpu c, ref DecodedOp op)
    {
        if (!c.Model.Has(CpuFeature.Lzcnt)) { Bsr(c, ref op); return; }
        int s = op.Size;
        ulong v = c.Load1(ref op);
        if (c.Faulted) return;
        int n = BitOperations.LeadingZeroCount(v) - (64 - s * 8);
        c.SetReg(op.R0, s, (ulong)n);
        c.SetArithFlags(v == 0, c.PF, c.AF, n == 0, c.SF, c.OF);
    }

    public static void Popcnt(Cpu c, ref DecodedOp op)
    {
        if (!c.Model.Has(CpuFeature.Popcnt)) { c.RaiseFault(State.Vector.UD); return; }
        ulong v = c.Load1(ref op);
        if (c.Faulted) return;
        c.SetReg(op.R0, op.Size, (ulong)BitOperations.PopCount(v));
        c.SetArithFlags(false, false, false, v == 0, false, false);
    }
}
