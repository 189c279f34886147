using System.Numerics;
using System.Runtime.CompilerServices;
using KhoEmu.Cpu.Flags;
using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu;

/// <summary>
/// Lazy arithmetic flags (the Bochs/blink approach): ALU instructions record the operation, its operands, its result
/// and size; CF, PF, AF, ZF, SF and OF are derived on demand, in this one place.
/// </summary>
public sealed partial class Cpu
{
    // The lazy-flag record lives in the CPU state (CpuState.Rflags, Lazy*), so a snapshot keeps it unmaterialized.
    private ref ulong _rflags => ref _s.Rflags;   // materialized bits; arithmetic bits stale while _lfOp != None
    private ref FlagOp _lfOp => ref _s.LazyOp;
    private ref int _lfSize => ref _s.LazySize;
    private ref ulong _lfA => ref _s.LazyA;
    private ref ulong _lfB => ref _s.LazyB;
    private ref ulong _lfRes => ref _s.LazyResult;
    private ref bool _lfCarryIn => ref _s.LazyCarryIn; // carry consumed by ADC/SBB, or the preserved CF of INC/DEC

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void SetLazy(FlagOp op, int size, ulong a, ulong b, ulong res)
    {
        _lfOp = op;
        _lfSize = size;
        _lfA = a;
        _lfB = b;
        _lfRes = res;
    }

    /// <summary>Records ADC/SBB/INC/DEC, whose flags also depend on a carry bit.</summary>
    internal void SetLazyWithCarry(FlagOp op, int size, ulong a, ulong b, ulong res, bool carry)
    {
        SetLazy(op, size, a, b, res);
        _lfCarryIn = carry;
    }

    private static ulong SizeMask(int size) => size == 8 ? ulong.MaxValue : (1UL << (size * 8)) - 1;
    private static ulong SignBit(int size) => 1UL << (size * 8 - 1);

    internal bool CF
    {
        get
        {
            ulong m = SizeMask(_lfSize);
            return _lfOp switch
            {
                FlagOp.None => (_rflags & Rflags.CF) != 0,
                FlagOp.Add => (_lfRes & m) < (_lfA & m),
                FlagOp.Adc => _lfCarryIn ? (_lfRes & m) <= (_lfA & m) : (_lfRes & m) < (_lfA & m),
                FlagOp.Sub => (_lfA & m) < (_lfB & m),
                FlagOp.Sbb => _lfCarryIn ? (_lfA & m) <= (_lfB & m) : (_lfA & m) < (_lfB & m),
                FlagOp.Inc or FlagOp.Dec => _lfCarryIn,
                _ => false,
            };
        }
    }

    internal bool ZF => _lfOp == FlagOp.None ? (_rflags & Rflags.ZF) != 0 : (_lfRes & SizeMask(_lfSize)) == 0;

    internal bool SF => _lfOp == FlagOp.None ? (_rflags & Rflags.SF) != 0 : (_lfRes & SignBit(_lfSize)) != 0;

    internal bool PF => _lfOp == FlagOp.None
        ? (_rflags & Rflags.PF) != 0
        : (BitOperations.PopCount(_lfRes & 0xFF) & 1) == 0;

    internal bool AF => _lfOp switch
    {
        FlagOp.None => (_rflags & Rflags.AF) != 0,
        FlagOp.Logic => false,
        _ => ((_lfA ^ _lfB ^ _lfRes) & 0x10) != 0,
    };

    internal bool OF
    {
        get
        {
            ulong sb = SignBit(_lfSize);
            return _lfOp switch
            {
                FlagOp.None => (_rflags & Rflags.OF) != 0,
                FlagOp.Add or FlagOp.Adc => ((_lfA ^ _lfRes) & (_lfB ^ _lfRes) & sb) != 0,
                FlagOp.Sub or FlagOp.Sbb => ((_lfA ^ _lfB) & (_lfA ^ _lfRes) & sb) != 0,
                FlagOp.Inc => (_lfRes & SizeMask(_lfSize)) == sb,
                FlagOp.Dec => (_lfRes & SizeMask(_lfSize)) == sb - 1,
                _ => false,
            };
        }
    }

    /// <summary>Folds the lazy state into RFLAGS; afterwards the flags can be edited bit by bit.</summary>
    internal void MaterializeFlags()
    {
        if (_lfOp == FlagOp.None) return;
        ulong f = _rflags & ~Rflags.Arith;
        if (CF) f |= Rflags.CF;
        if (PF) f |= Rflags.PF;
        if (AF) f |= Rflags.AF;
        if (ZF) f |= Rflags.ZF;
        if (SF) f |= Rflags.SF;
        if (OF) f |= Rflags.OF;
        _rflags = f;
        _lfOp = FlagOp.None;
    }

    /// <summary>The architectural RFLAGS value.</summary>
    public ulong GetRflags()
    {
        MaterializeFlags();
        return _rflags;
    }

    /// <summary>Sets RFLAGS (bit 1 always reads as one).</summary>
    public void SetRflags(ulong value)
    {
        _lfOp = FlagOp.None;
        _rflags = (value & (Rflags.Writable | Rflags.VM | Rflags.VIF | Rflags.VIP)) | Rflags.Reserved1;
    }

    /// <summary>Sets or clears one flag bit (materializing lazy state first).</summary>
    internal void SetFlag(ulong bit, bool on)
    {
        MaterializeFlags();
        if (on) _rflags |= bit;
        else _rflags &= ~bit;
    }

    /// <summary>Sets the arithmetic flags from explicit values (shifts, multiplies, bit tests).</summary>
    internal void SetArithFlags(bool cf, bool pf, bool af, bool zf, bool sf, bool of)
    {
        MaterializeFlags();
        ulong f = _rflags & ~Rflags.Arith;
        if (cf) f |= Rflags.CF;
        if (pf) f |= Rflags.PF;
        if (af) f |= Rflags.AF;
        if (zf) f |= Rflags.ZF;
        if (sf) f |= Rflags.SF;
        if (of) f |= Rflags.OF;
        _rflags = f;
    }

    /// <summary>Flags for a result as a logic operation sets them, overriding CF and OF.</summary>
    internal void SetResultFlags(int size, ulong res, bool cf, bool of)
    {
        ulong m = SizeMask(size);
        SetArithFlags(cf, (BitOperations.PopCount(res & 0xFF) & 1) == 0, false, (res & m) == 0,
            (res & SignBit(size)) != 0, of);
    }

    internal bool IF => (_rflags & Rflags.IF) != 0;
    internal bool DF => (_rflags & Rflags.DF) != 0;
    internal int Iopl => (int)((_rflags >> 12) & 3);

    /// <summary>Evaluates condition code <paramref name="cc"/> (the low nibble of Jcc/SETcc/CMOVcc opcodes).</summary>
    internal bool Condition(int cc)
    {
        bool r = (cc >> 1) switch
        {
            0 => OF,
            1 => CF,
            2 => ZF,
            3 => CF || ZF,
            4 => SF,
            5 => PF,
            6 => SF != OF,
            _ => ZF || SF != OF,
        };
        return (cc & 1) != 0 ? !r : r;
    }
}
