using Iced.Intel;
using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.State;
using KhoEmu.Cpu.X87;

namespace KhoEmu.Cpu.Semantics;

/// <summary>
/// What every x87 instruction shares: the CR0.EM/TS checks, the pending-exception check of waiting instructions,
/// the last instruction/data pointer and opcode updates, the register stack, stack faults, and the status word's
/// exception and condition bits (Intel SDM vol. 1, chapter 8).
/// </summary>
internal static class X87Core
{
    private const X87Exception RegisterBlocking = X87Exception.Invalid | X87Exception.Denormal | X87Exception.ZeroDivide;
    private const X87Exception MemoryBlocking = RegisterBlocking | X87Exception.Overflow | X87Exception.Underflow;

    /// <summary>
    /// CR0.EM or CR0.TS: #NM (SDM vol. 3, 2.5 and table 2-2). A waiting instruction that finds an unmasked exception
    /// pending (ES) raises #MF with CR0.NE = 1, or asserts FERR# with NE = 0 and then executes. Returns false when a
    /// fault was raised.
    /// </summary>
    public static bool Begin(Cpu c, bool waiting = true)
    {
        if ((c.Cr0 & (ControlBits.Cr0EM | ControlBits.Cr0TS)) != 0) { c.RaiseFault(Vector.NM); return false; }
        if (waiting && c.Fpu.ErrorPending)
        {
            if ((c.Cr0 & ControlBits.Cr0NE) != 0) { c.RaiseFault(Vector.MF); return false; }
            c.SetFerr(true);
        }
        return true;
    }

    /// <summary>
    /// <see cref="Begin"/> for a non-control instruction, which also records FIP/FCS and FOP, and FDP/FDS when it has
    /// a memory operand (SDM vol. 1, 8.1.8-8.1.9). Pointers are offsets within their segments, as the protected-mode
    /// layouts store them.
    /// </summary>
    public static bool BeginNonControl(Cpu c, ref DecodedOp op)
    {
        if (!Begin(c)) return false;
        ref var f = ref c.Fpu;
        f.LastInstructionPointer = c.InstructionStart;
        f.LastInstructionSelector = c.Seg[SegReg.CS].Selector;
        f.LastOpcode = op.Fop;
        if (op.K0 == OperandKind.Memory || op.K1 == OperandKind.Memory)
        {
            f.LastDataPointer = c.Ea(ref op);
            f.LastDataSelector = c.Seg[op.Seg].Selector;
        }
        return true;
    }

    /// <summary>The ST(i) index of operand <paramref name="n"/> (an ST register).</summary>
    public static int StIndex(ref DecodedOp op, int n) => op.Insn.GetOpRegister(n) - Register.ST0;

    public static bool Unmasked(Cpu c, X87Exception e) => ((ushort)e & ~c.Fpu.ControlWord & X87State.ExceptionBits) != 0;

    /// <summary>An unmasked invalid, denormal or divide-by-zero leaves a register destination unchanged.</summary>
    public static bool BlocksRegister(Cpu c, in X87Flags f) => Unmasked(c, f.Raised & RegisterBlocking);

    /// <summary>A memory destination is also left unchanged by an unmasked overflow or underflow (SDM vol. 1, 4.9.2).</summary>
    public static bool BlocksMemory(Cpu c, in X87Flags f) => Unmasked(c, f.Raised & MemoryBlocking);

    /// <summary>Records an operation's exceptions and its C1 (rounded up) in the status word.</summary>
    public static void Record(Cpu c, in X87Flags f)
    {
        ref var s = ref c.Fpu;
        s.StatusWord = (ushort)((s.StatusWord | (ushort)f.Raised) & ~X87State.StatusC1);
        if (f.RoundedUp) s.StatusWord |= X87State.StatusC1;
        s.UpdateErrorSummary();
    }

    public static void SetC1(Cpu c, bool on)
    {
        ref ushort sw = ref c.Fpu.StatusWord;
        sw = on ? (ushort)(sw | X87State.StatusC1) : (ushort)(sw & ~X87State.StatusC1);
    }

    /// <summary>Sets C3, C2 and C0 from bits 2, 1 and 0 of <paramref name="c3c2c0"/>.</summary>
    public static void SetC320(Cpu c, int c3c2c0)
    {
        ref ushort sw = ref c.Fpu.StatusWord;
        sw = (ushort)(sw & ~(X87State.StatusC0 | X87State.StatusC2 | X87State.StatusC3));
        if ((c3c2c0 & 4) != 0) sw |= X87State.StatusC3;
        if ((c3c2c0 & 2) != 0) sw |= X87State.StatusC2;
        if ((c3c2c0 & 1) != 0) sw |= X87State.StatusC0;
    }

    /// <summary>
    /// Stack fault (SDM vol. 1, 8.5.1.1): IE and SF, C1 = 1 for overflow and 0 for underflow. Returns true when IE is
    /// masked: the caller then performs the masked response (a real indefinite in the destination).
    /// </summary>
    public static bool StackFault(Cpu c, bool overflow)
    {
        ref var s = ref c.Fpu;
        s.StatusWord |= X87State.StatusIE | X87State.StatusSF;
        SetC1(c, overflow);
        s.UpdateErrorSummary();
        return !Unmasked(c, X87Exception.Invalid);
    }

    public static bool StackUnderflow(Cpu c) => StackFault(c, false);

    public static void Push(Cpu c, Float80 v)
    {
        c.Fpu.Top--;
        c.Fpu.SetSt(0, v);
    }

    public static void Pop(Cpu c)
    {
        ref var s = ref c.Fpu;
        s.SetTag(s.Physical(0), 3);
        s.Top++;
    }

    /// <summary>
    /// Pushes a loaded value: a full ST(7) is a stack overflow (masked response: push the indefinite); an unmasked
    /// invalid operand (SNaN) pushes nothing. An unmasked denormal still loads (the conversion is exact), as the host
    /// CPU shows.
    /// </summary>
    public static void PushLoaded(Cpu c, Float80 v, in X87Flags f)
    {
        if (!c.Fpu.IsEmpty(7))
        {
            if (StackFault(c, true)) Push(c, Float80.Indefinite);
            return;
        }
        Record(c, f);
        if (!Unmasked(c, f.Raised & X87Exception.Invalid)) Push(c, v);
    }

    /// <summary>
    /// A NaN or unsupported ST(0) outranks a denormal memory operand (SDM vol. 1, 4.9.2: invalid and QNaN operands come
    /// before denormal ones), so the load's denormal report is dropped then.
    /// </summary>
    public static void DenormalPrecedence(Float80 st0, ref X87Flags load)
    {
        bool nanOrUnsupported = st0.Exponent == 0x7FFF && (st0.Significand << 1) != 0
            || st0.Exponent != 0 && (st0.Significand >> 63) == 0;
        if (nanOrUnsupported) load.Raised &= ~X87Exception.Denormal;
    }

    /// <summary>An unmasked invalid or denormal memory operand stops an arithmetic instruction before it computes.</summary>
    public static bool OperandFaults(Cpu c, in X87Flags f)
    {
        if (!Unmasked(c, f.Raised & (X87Exception.Invalid | X87Exception.Denormal))) return false;
        Record(c, f);
        return true;
    }

    /// <summary>True when the stack has room for one push; otherwise performs the stack-overflow response.</summary>
    public static bool RoomForPush(Cpu c)
    {
        if (c.Fpu.IsEmpty(7)) return true;
        if (StackFault(c, true)) Push(c, Float80.Indefinite);
        return false;
    }

    // ---- memory ------------------------------------------------------------------------------------------------

    public static Float80 ReadFloat80(Cpu c, ulong la)
    {
        ulong sig = c.ReadLinear(la, 8);
        ulong se = c.ReadLinear(la + 8, 2);
        return new Float80(sig, (ushort)se);
    }

    /// <summary>Writes ten bytes after checking the whole range is writable (no partial store on a fault).</summary>
    public static bool WriteFloat80(Cpu c, ulong la, Float80 v)
    {
        if (!c.ProbeWrite(la, 10)) return false;
        c.WriteLinear(la, 8, v.Significand);
        c.WriteLinear(la + 8, 2, v.SignExponent);
        return !c.Faulted;
    }

    /// <summary>
    /// Reads a floating-point or integer memory operand into 80-bit form (exact except SNaN quieting). With
    /// <paramref name="keepSignaling"/> a single or double SNaN stays signaling, so that the arithmetic sees which
    /// operand was the SNaN (NaN selection and the invalid report are then the arithmetic's).
    /// </summary>
    public static bool ReadOperand(Cpu c, ref DecodedOp op, ref X87Flags f, out Float80 v, bool keepSignaling = false)
    {
        ulong la = c.OperandLinear(ref op);
        v = default;
        switch (op.Insn.MemorySize)
        {
            case MemorySize.Float32:
                {
                    ulong b = c.ReadLinear(la, 4);
                    if (c.Faulted) return false;
                    bool snan = (b & 0x7F80_0000) == 0x7F80_0000 && (b & 0x7F_FFFF) != 0 && (b & 0x40_0000) == 0;
                    v = keepSignaling && snan ? new Float80(0x8000_0000_0000_0000 | ((b & 0x7F_FFFF) << 40), (ushort)(((b >> 31) << 15) | 0x7FFF))
                        : SoftFloat80.FromSingle((uint)b, ref f);
                    return true;
                }
            case MemorySize.Float64:
                {
                    ulong b = c.ReadLinear(la, 8);
                    if (c.Faulted) return false;
                    const ulong exp = 0x7FF0_0000_0000_0000, frac = 0x000F_FFFF_FFFF_FFFF, quiet = 0x0008_0000_0000_0000;
                    bool snan = (b & exp) == exp && (b & frac) != 0 && (b & quiet) == 0;
                    v = keepSignaling && snan ? new Float80(0x8000_0000_0000_0000 | ((b & frac) << 11), (ushort)(((b >> 63) << 15) | 0x7FFF))
                        : SoftFloat80.FromDouble(b, ref f);
                    return true;
                }
            case MemorySize.Float80: v = ReadFloat80(c, la); return !c.Faulted;
            case MemorySize.Int16: { ulong b = c.ReadLinear(la, 2); if (c.Faulted) return false; v = SoftFloat80.FromInt64((short)b); return true; }
            case MemorySize.Int32: { ulong b = c.ReadLinear(la, 4); if (c.Faulted) return false; v = SoftFloat80.FromInt64((int)b); return true; }
            case MemorySize.Int64: { ulong b = c.ReadLinear(la, 8); if (c.Faulted) return false; v = SoftFloat80.FromInt64((long)b); return true; }
            default:
                Span<byte> bcd = stackalloc byte[10];
                for (int i = 0; i < 10; i++) bcd[i] = (byte)c.ReadLinear(la + (ulong)i, 1);
                if (c.Faulted) return false;
                v = SoftFloat80.FromBcd(bcd);
                return true;
        }
    }
}
