using System.Runtime.CompilerServices;
using KhoEmu.Cpu.Decode;

namespace KhoEmu.Cpu;

/// <summary>Operand fetch and write-back shared by every instruction family.</summary>
public sealed partial class Cpu
{
    /// <summary>The effective address (offset within the segment) of the memory operand.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong Ea(ref DecodedOp op)
    {
        ulong ea = (ulong)op.Disp + Gpr[op.Base] + (Gpr[op.Index] << op.Scale);
        if (op.RipRelative) ea += Rip;
        return ea & op.AddrMask;
    }

    /// <summary>The linear address of the memory operand.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong OperandLinear(ref DecodedOp op) => Linear(op.Seg, Ea(ref op));

    /// <summary>Reads operand 0 (register or memory) at <see cref="DecodedOp.Size"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong Load0(ref DecodedOp op) =>
        op.K0 == OperandKind.Register ? GetReg(op.R0, op.Size) : Read(op.Seg, Ea(ref op), op.Size);

    /// <summary>Writes operand 0 (register or memory) at <see cref="DecodedOp.Size"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Store0(ref DecodedOp op, ulong value)
    {
        if (op.K0 == OperandKind.Register) SetReg(op.R0, op.Size, value);
        else Write(op.Seg, Ea(ref op), op.Size, value);
    }

    /// <summary>Reads operand 1 (register, memory or immediate) at <see cref="DecodedOp.SrcSize"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong Load1(ref DecodedOp op) => op.K1 switch
    {
        OperandKind.Register => GetReg(op.R1, op.SrcSize),
        OperandKind.Immediate => op.Imm,
        _ => Read(op.Seg, Ea(ref op), op.SrcSize),
    };

    /// <summary>Stack pointer width in bytes: 8 in 64-bit mode, else SS.B decides between 4 and 2.</summary>
    internal int StackWidth => Is64 ? 8 : Seg[State.SegReg.SS].Big ? 4 : 2;

    /// <summary>Pushes <paramref name="size"/> bytes; RSP changes only if the write succeeds.</summary>
    internal void Push(ulong value, int size)
    {
        int sw = StackWidth;
        ulong sp = Gpr[RSP] - (ulong)size;
        if (sw == 8) { WriteLinear(Linear(State.SegReg.SS, sp), size, value); if (!Faulted) Gpr[RSP] = sp; return; }
        ulong mask = sw == 4 ? 0xFFFF_FFFFUL : 0xFFFFUL;
        sp &= mask;
        Write(State.SegReg.SS, sp, size, value);
        if (!Faulted) Gpr[RSP] = (Gpr[RSP] & ~mask) | sp;
    }

    /// <summary>Reads the value at the top of the stack (offset <paramref name="offset"/>) without popping.</summary>
    internal ulong PeekStack(int size, ulong offset = 0)
    {
        int sw = StackWidth;
        ulong mask = sw == 8 ? ulong.MaxValue : sw == 4 ? 0xFFFF_FFFFUL : 0xFFFFUL;
        return Read(State.SegReg.SS, (Gpr[RSP] + offset) & mask, size);
    }

    /// <summary>Adds to the stack pointer at the stack's width.</summary>
    internal void AdjustStack(long delta)
    {
        int sw = StackWidth;
        if (sw == 8) { Gpr[RSP] += (ulong)delta; return; }
        ulong mask = sw == 4 ? 0xFFFF_FFFFUL : 0xFFFFUL;
        Gpr[RSP] = (Gpr[RSP] & ~mask) | ((Gpr[RSP] + (ulong)delta) & mask);
    }

    internal ulong Pop(int size)
    {
        ulong v = PeekStack(size);
        if (!Faulted) AdjustStack(size);
        return v;
    }
}
