using Iced.Intel;
using System.Runtime.Intrinsics;
using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu.Semantics;

/// <summary>
/// SSE/SSE2 moves, logic and packed integer operations. Lane arithmetic is expressed with .NET's Vector128 so that
/// the semantics are those of the same operations on the host.
/// </summary>
internal static partial class Sse
{
    internal static Vector128<ulong> V(Xmm x) => Vector128.Create(x.Lo, x.Hi);
    internal static Xmm X(Vector128<ulong> v) => new(v.GetElement(0), v.GetElement(1));

    /// <summary>#UD without CR4.OSFXSR or with CR0.EM; #NM with CR0.TS (SDM vol. 3, 13.1).</summary>
    internal static bool Available(Cpu c)
    {
        if ((c.Cr4 & ControlBits.Cr4OSFXSR) == 0 || (c.Cr0 & ControlBits.Cr0EM) != 0) { c.RaiseFault(Vector.UD); return false; }
        if ((c.Cr0 & ControlBits.Cr0TS) != 0) { c.RaiseFault(Vector.NM); return false; }
        return true;
    }

    /// <summary>Reads a 16-byte source (XMM register or memory); legacy-SSE memory operands must be aligned.</summary>
    internal static bool ReadSource(Cpu c, ref DecodedOp op, out Xmm v, bool aligned = true)
    {
        if (op.K1 == OperandKind.Register) { v = c.XmmRegs[op.R1]; return true; }
        ulong la = c.OperandLinear(ref op);
        v = default;
        if (aligned && (la & 15) != 0) { c.RaiseFault(Vector.GP, 0); return false; }
        v.Lo = c.ReadLinear(la, 8);
        v.Hi = c.ReadLinear(la + 8, 8);
        return !c.Faulted;
    }

    internal static void WriteMemory(Cpu c, ref DecodedOp op, Xmm v, bool aligned)
    {
        ulong la = c.OperandLinear(ref op);
        if (aligned && (la & 15) != 0) { c.RaiseFault(Vector.GP, 0); return; }
        if (!c.ProbeWrite(la, 16)) return;
        c.WriteLinear(la, 8, v.Lo);
        c.WriteLinear(la + 8, 8, v.Hi);
    }

    /// <summary>MOVAPS/MOVUPS/MOVAPD/MOVUPD/MOVDQA/MOVDQU in all directions.</summary>
    public static void MovFull(Cpu c, ref DecodedOp op)
    {
        if (!Available(c)) return;
        var m = op.Insn.Mnemonic;
        bool aligned = m is Iced.Intel.Mnemonic.Movaps or Iced.Intel.Mnemonic.Movapd or Iced.Intel.Mnemonic.Movdqa
            or Iced.Intel.Mnemonic.Movntdq or Iced.Intel.Mnemonic.Movntps or Iced.Intel.Mnemonic.Movntpd;
        if (op.K0 == OperandKind.Register)
        {
            if (ReadSource(c, ref op, out var v, aligned)) c.XmmRegs[op.R0] = v;
        }
        else WriteMemory(c, ref op, c.XmmRegs[op.R1], aligned);
    }

    /// <summary>MOVD/MOVQ between XMM and general registers or memory, and MOVQ xmm, xmm/m64.</summary>
    public static void MovdMovq(Cpu c, ref DecodedOp op)
    {
        if (!Available(c)) return;
        bool destXmm = op.K0 == OperandKind.Register && op.Insn.Op0Register.IsXMM();
        int s = op.Insn.Mnemonic == Iced.Intel.Mnemonic.Movd ? 4 : 8;
        if (destXmm)
        {
            ulong v;
            if (op.K1 == OperandKind.Register && op.Insn.Op1Register.IsXMM()) v = c.XmmRegs[op.R1].Lo;
            else if (op.K1 == OperandKind.Register) v = c.GetReg(op.R1, s);
            else { v = c.Read(op.Seg, c.Ea(ref op), s); if (c.Faulted) return; }
            c.XmmRegs[op.R0] = new Xmm(s == 4 ? (uint)v : v, 0);
            return;
        }
        ulong lo = c.XmmRegs[op.R1].Lo;
        if (op.K0 == OperandKind.Register) c.SetReg(op.R0, s, s == 4 ? (uint)lo : lo);
        else c.Write(op.Seg, c.Ea(ref op), s, lo);
    }

    /// <summary>MOVSS/MOVSD (scalar): loads zero the rest, register moves merge the low element.</summary>
    public static void MovScalar(Cpu c, ref DecodedOp op)
    {
        if (!Available(c)) return;
        int s = op.Insn.Mnemonic == Iced.Intel.Mnemonic.Movss ? 4 : 8;
        ulong mask = s == 4 ? 0xFFFF_FFFFUL : ulong.MaxValue;
        if (op.K0 == OperandKind.Register && op.K1 == OperandKind.Register)
        {
            ref Xmm d = ref c.XmmRegs[op.R0];
            d.Lo = (d.Lo & ~mask) | (c.XmmRegs[op.R1].Lo & mask);
        }
        else if (op.K0 == OperandKind.Register)
        {
            ulong v = c.Read(op.Seg, c.Ea(ref op), s);
            if (!c.Faulted) c.XmmRegs[op.R0] = new Xmm(v, 0);
        }
        else c.Write(op.Seg, c.Ea(ref op), s, c.XmmRegs[op.R1].Lo & mask);
    }

    /// <summary>MOVLPS/MOVLPD/MOVHPS/MOVHPD/MOVHLPS/MOVLHPS.</summary>
    public static void MovHalf(Cpu c, ref DecodedOp op)
    {
        if (!Available(c)) return;
        var m = op.Insn.Mnemonic;
        bool high = m is Iced.Intel.Mnemonic.Movhps or Iced.Intel.Mnemonic.Movhpd;
        if (m == Iced.Intel.Mnemonic.Movhlps) { c.XmmRegs[op.R0].Lo = c.XmmRegs[op.R1].Hi; return; }
        if (m == Iced.Intel.Mnemonic.Movlhps) { c.XmmRegs[op.R0].Hi = c.XmmRegs[op.R1].Lo; return; }
        if (op.K0 == OperandKind.Register)
        {
            ulong v = c.Read(op.Seg, c.Ea(ref op), 8);
            if (c.Faulted) return;
            if (high) c.XmmRegs[op.R0].Hi = v;
            else c.XmmRegs[op.R0].Lo = v;
        }
        else c.Write(op.Seg, c.Ea(ref op), 8, high ? c.XmmRegs[op.R1].Hi : c.XmmRegs[op.R1].Lo);
    }

    /// <summary>Two-operand packed operation: dest = f(dest, src).</summary>
    internal static void Packed(Cpu c, ref DecodedOp op, Func<Vector128<ulong>, Vector128<ulong>, Vector128<ulong>> f)
    {
        if (!Available(c) || !ReadSource(c, ref op, out var src)) return;
        c.XmmRegs[op.R0] = X(f(V(c.XmmRegs[op.R0]), V(src)));
    }

    public static void PMovMskB(Cpu c, ref DecodedOp op)
    {
        if (!Available(c)) return;
        c.SetReg(op.R0, op.Size, Vector128.ExtractMostSignificantBits(V(c.XmmRegs[op.R1]).AsByte()));
    }

    public static void MovMsk(Cpu c, ref DecodedOp op)
    {
        if (!Available(c)) return;
        var v = V(c.XmmRegs[op.R1]);
        uint bits = op.Insn.Mnemonic == Iced.Intel.Mnemonic.Movmskpd
            ? Vector128.ExtractMostSignificantBits(v)
            : Vector128.ExtractMostSignificantBits(v.AsUInt32());
        c.SetReg(op.R0, op.Size, bits);
    }

    public static void Pshufd(Cpu c, ref DecodedOp op)
    {
        if (!Available(c) || !ReadSource(c, ref op, out var src)) return;
        var s = V(src).AsUInt32();
        int imm = (int)op.Imm;
        var r = Vector128.Create(s.GetElement(imm & 3), s.GetElement((imm >> 2) & 3), s.GetElement((imm >> 4) & 3), s.GetElement((imm >> 6) & 3));
        c.XmmRegs[op.R0] = X(r.AsUInt64());
    }

    public static void PshufLowHigh(Cpu c, ref DecodedOp op)
    {
        if (!Available(c) || !ReadSource(c, ref op, out var src)) return;
        var s = V(src).AsUInt16();
        int imm = (int)op.Imm;
        int b = op.Insn.Mnemonic == Iced.Intel.Mnemonic.Pshufhw ? 4 : 0;
        Span<ushort> w = stackalloc ushort[8];
        for (int i = 0; i < 8; i++) w[i] = s.GetElement(i);
        Span<ushort> r = stackalloc ushort[8];
        w.CopyTo(r);
        for (int i = 0; i < 4; i++) r[b + i] = w[b + ((imm >> (2 * i)) & 3)];
        c.XmmRegs[op.R0] = X(Vector128.Create<ushort>(r).AsUInt64());
    }

    public static void Shufps(Cpu c, ref DecodedOp op)
    {
        if (!Available(c) || !ReadSource(c, ref op, out var src)) return;
        var d = V(c.XmmRegs[op.R0]).AsUInt32();
        var s = V(src).AsUInt32();
        int imm = (int)op.Imm;
        var r = Vector128.Create(d.GetElement(imm & 3), d.GetElement((imm >> 2) & 3), s.GetElement((imm >> 4) & 3), s.GetElement((imm >> 6) & 3));
        c.XmmRegs[op.R0] = X(r.AsUInt64());
    }

    public static void Shufpd(Cpu c, ref DecodedOp op)
    {
        if (!Available(c) || !ReadSource(c, ref op, out var src)) return;
        var d = c.XmmRegs[op.R0];
        c.XmmRegs[op.R0] = new Xmm((op.Imm & 1) == 0 ? d.Lo : d.Hi, (op.Imm & 2) == 0 ? src.Lo : src.Hi);
    }

    /// <summary>PUNPCKL*/PUNPCKH*, UNPCKLPS/PD, UNPCKHPS/PD: interleave elements of <paramref name="size"/> bytes.</summary>
    internal static void Unpack(Cpu c, ref DecodedOp op, int size, bool high)
    {
        if (!Available(c) || !ReadSource(c, ref op, out var src)) return;
        Span<byte> a = stackalloc byte[16], b = stackalloc byte[16], r = stackalloc byte[16];
        V(c.XmmRegs[op.R0]).AsByte().CopyTo(a);
        V(src).AsByte().CopyTo(b);
        int start = high ? 8 : 0;
        for (int i = 0, o = 0; i < 8; i += size)
        {
            a.Slice(start + i, size).CopyTo(r.Slice(o, size));
            o += size;
            b.Slice(start + i, size).CopyTo(r.Slice(o, size));
            o += size;
        }
        c.XmmRegs[op.R0] = X(Vector128.Create<byte>(r).AsUInt64());
    }

    /// <summary>PSRLW/D/Q, PSLLW/D/Q, PSRAW/D by immediate or by the low qword of an XMM/m128 count.</summary>
    internal static void ShiftLanes(Cpu c, ref DecodedOp op, int lane, int kind)
    {
        if (!Available(c)) return;
        ulong count;
        if (op.K1 == OperandKind.Immediate) count = op.Imm & 0xFF;
        else if (ReadSource(c, ref op, out var cnt)) count = cnt.Lo;
        else return;
        var v = V(c.XmmRegs[op.R0]);
        int bits = lane * 8;
        bool tooBig = count >= (ulong)bits;
        int n = (int)Math.Min(count, (ulong)bits - 1);
        Vector128<ulong> r = (kind, lane) switch
        {
            (0, 2) => tooBig ? default : Vector128.ShiftRightLogical(v.AsUInt16(), n).AsUInt64(),
            (0, 4) => tooBig ? default : Vector128.ShiftRightLogical(v.AsUInt32(), n).AsUInt64(),
            (0, _) => tooBig ? default : Vector128.ShiftRightLogical(v, n),
            (1, 2) => tooBig ? default : Vector128.ShiftLeft(v.AsUInt16(), n).AsUInt64(),
            (1, 4) => tooBig ? default : Vector128.ShiftLeft(v.AsUInt32(), n).AsUInt64(),
            (1, _) => tooBig ? default : Vector128.ShiftLeft(v, n),
            (_, 2) => Vector128.ShiftRightArithmetic(v.AsInt16(), n).AsUInt64(),
            _ => Vector128.ShiftRightArithmetic(v.AsInt32(), n).AsUInt64(),
        };
        c.XmmRegs[op.R0] = X(r);
    }

    /// <summary>PSRLDQ / PSLLDQ: whole-register byte shifts.</summary>
    public static void ByteShift(Cpu c, ref DecodedOp op)
    {
        if (!Available(c)) return;
        int n = (int)Math.Min(op.Imm & 0xFF, 16);
        UInt128 v = ((UInt128)c.XmmRegs[op.R0].Hi << 64) | c.XmmRegs[op.R0].Lo;
        v = n == 16 ? 0 : op.Insn.Mnemonic == Iced.Intel.Mnemonic.Psrldq ? v >> (n * 8) : v << (n * 8);
        c.XmmRegs[op.R0] = new Xmm((ulong)v, (ulong)(v >> 64));
    }

    public static void Pextrw(Cpu c, ref DecodedOp op)
    {
        if (!Available(c)) return;
        c.SetReg(op.R0, op.Size, V(c.XmmRegs[op.R1]).AsUInt16().GetElement((int)(op.Imm & 7)));
    }

    public static void Pinsrw(Cpu c, ref DecodedOp op)
    {
        if (!Available(c)) return;
        ulong w = op.K1 == OperandKind.Register ? c.GetReg(op.R1, 4) : c.Read(op.Seg, c.Ea(ref op), 2);
        if (c.Faulted) return;
        c.XmmRegs[op.R0] = X(V(c.XmmRegs[op.R0]).AsUInt16().WithElement((int)(op.Imm & 7), (ushort)w).AsUInt64());
    }

    public static void Ldmxcsr(Cpu c, ref DecodedOp op)
    {
        if (!Available(c)) return;
        ulong v = c.Read(op.Seg, c.Ea(ref op), 4);
        if (c.Faulted) return;
        if ((v & ~(ulong)SseFloat.MxcsrBits.WritableMask) != 0) { c.RaiseFault(Vector.GP, 0); return; }
        c.Mxcsr = (uint)v;
    }

    public static void Stmxcsr(Cpu c, ref DecodedOp op)
    {
        if (Available(c)) c.Write(op.Seg, c.Ea(ref op), 4, c.Mxcsr);
    }

    /// <summary>
    /// FXSAVE/FXSAVE64 (SDM vol. 1, 10.5.1): the x87 state (FCW, FSW, abridged FTW, FOP, FIP/FCS and FDP/FDS, or the
    /// 64-bit FIP/FDP with REX.W; ST0-7 in 16-byte slots), MXCSR, MXCSR_MASK and XMM0-7 (XMM0-15 in 64-bit mode).
    /// #NM with CR0.EM or CR0.TS; no pending-exception check (FXSAVE is not a waiting instruction).
    /// </summary>
    public static void Fxsave(Cpu c, ref DecodedOp op)
    {
        if ((c.Cr0 & (ControlBits.Cr0EM | ControlBits.Cr0TS)) != 0) { c.RaiseFault(Vector.NM); return; }
        ulong la = c.OperandLinear(ref op);
        if ((la & 15) != 0) { c.RaiseFault(Vector.GP, 0); return; }
        if (!c.ProbeWrite(la, 512)) return;
        Span<byte> x87 = stackalloc byte[160];
        X87Environment.SaveFxArea(c, x87, op.Insn.Mnemonic == Mnemonic.Fxsave64);
        for (int i = 0; i < 160; i += 8) c.WriteLinear(la + (ulong)i, 8, BitConverter.ToUInt64(x87[i..]));
        c.WriteLinear(la + 24, 4, c.Mxcsr);
        c.WriteLinear(la + 28, 4, SseFloat.MxcsrBits.WritableMask);
        int count = c.Is64 ? 16 : 8;
        for (int r = 0; r < count; r++)
        {
            c.WriteLinear(la + 160 + (ulong)r * 16, 8, c.XmmRegs[r].Lo);
            c.WriteLinear(la + 168 + (ulong)r * 16, 8, c.XmmRegs[r].Hi);
        }
    }

    /// <summary>FXRSTOR/FXRSTOR64: the inverse of <see cref="Fxsave"/>; reserved MXCSR bits set raise #GP(0).</summary>
    public static void Fxrstor(Cpu c, ref DecodedOp op)
    {
        if ((c.Cr0 & (ControlBits.Cr0EM | ControlBits.Cr0TS)) != 0) { c.RaiseFault(Vector.NM); return; }
        ulong la = c.OperandLinear(ref op);
        if ((la & 15) != 0) { c.RaiseFault(Vector.GP, 0); return; }
        Span<byte> x87 = stackalloc byte[160];
        for (int i = 0; i < 160; i += 8) BitConverter.TryWriteBytes(x87[i..], c.ReadLinear(la + (ulong)i, 8));
        ulong mx = c.ReadLinear(la + 24, 4);
        int count = c.Is64 ? 16 : 8;
        Span<Xmm> regs = stackalloc Xmm[16];
        for (int r = 0; r < count; r++)
            regs[r] = new Xmm(c.ReadLinear(la + 160 + (ulong)r * 16, 8), c.ReadLinear(la + 168 + (ulong)r * 16, 8));
        if (c.Faulted) return;
        if ((mx & ~(ulong)SseFloat.MxcsrBits.WritableMask) != 0) { c.RaiseFault(Vector.GP, 0); return; }
        c.Mxcsr = (uint)mx;
        regs[..count].CopyTo(c.XmmRegs);
        X87Environment.RestoreFxArea(c, x87, op.Insn.Mnemonic == Mnemonic.Fxrstor64);
    }
}
