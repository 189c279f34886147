using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.Flags;
using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu.Semantics;

/// <summary>
/// MOVS, STOS, LODS, CMPS, SCAS, INS, OUTS with REP/REPE/REPNE. Index and count registers follow the address size.
/// A long REP runs in slices so interrupts and the instruction budget are honoured; a fault leaves the registers at
/// the faulting element, so the instruction restarts where it stopped (Intel SDM vol. 2, REP). A slice is
/// <see cref="SliceElements"/> elements whichever path runs them (the bulk copy or the element loop): which path runs
/// depends on host caches (decoded code pages), so a slice that depended on it would make the instruction count
/// depend on them too, and a run restored from a snapshot (caches empty) would not retire what the original did.
/// </summary>
internal static class StringOps
{
    private const int SliceElements = 1 << 14;

    private delegate bool Element(Cpu c, ref DecodedOp op, ulong si, ulong di);

    private static void Run(Cpu c, ref DecodedOp op, Element body, bool usesSi, bool usesDi, bool conditional, int done = 0)
    {
        int a = op.AddrSize;
        ulong mask = op.AddrMask;
        long step = c.DF ? -op.Size : op.Size;
        if (op.Rep == 0)
        {
            if (body(c, ref op, c.Gpr[Cpu.RSI] & mask, c.Gpr[Cpu.RDI] & mask)) Advance(c, a, step, usesSi, usesDi);
            return;
        }
        ulong count = c.GetReg(Cpu.RCX, a);
        for (int n = done; count != 0; n++)
        {
            if (n == SliceElements)
            {
                c.Rip = c.InstructionStart; // come back for the rest after interrupts get a chance
                c._exitBlock = true;
                return;
            }
            if (!body(c, ref op, c.Gpr[Cpu.RSI] & mask, c.Gpr[Cpu.RDI] & mask)) return;
            Advance(c, a, step, usesSi, usesDi);
            c.SetReg(Cpu.RCX, a, --count);
            if (conditional && (op.Rep == 1 ? !c.ZF : c.ZF)) break;
            if (count != 0 && c.DebugTrapPending)
            {
                c.Rip = c.InstructionStart; // the breakpoint's trap comes after this iteration; the rest runs after it
                return;
            }
        }
    }

    private static void Advance(Cpu c, int a, long step, bool si, bool di)
    {
        if (si) c.SetReg(Cpu.RSI, a, c.Gpr[Cpu.RSI] + (ulong)step);
        if (di) c.SetReg(Cpu.RDI, a, c.Gpr[Cpu.RDI] + (ulong)step);
    }

    private static readonly Element MovsBody = (Cpu c, ref DecodedOp op, ulong si, ulong di) =>
    {
        ulong v = c.Read(op.Seg, si, op.Size);
        if (c.Faulted) return false;
        c.Write(SegReg.ES, di, op.Size, v);
        return !c.Faulted;
    };

    private static readonly Element StosBody = (Cpu c, ref DecodedOp op, ulong si, ulong di) =>
    {
        c.Write(SegReg.ES, di, op.Size, c.GetReg(Cpu.RAX, op.Size));
        return !c.Faulted;
    };

    private static readonly Element LodsBody = (Cpu c, ref DecodedOp op, ulong si, ulong di) =>
    {
        ulong v = c.Read(op.Seg, si, op.Size);
        if (c.Faulted) return false;
        c.SetReg(Cpu.RAX, op.Size, v);
        return true;
    };

    private static readonly Element CmpsBody = (Cpu c, ref DecodedOp op, ulong si, ulong di) =>
    {
        ulong x = c.Read(op.Seg, si, op.Size);
        ulong y = c.Read(SegReg.ES, di, op.Size);
        if (c.Faulted) return false;
        c.SetLazy(FlagOp.Sub, op.Size, x, y, x - y);
        return true;
    };

    private static readonly Element ScasBody = (Cpu c, ref DecodedOp op, ulong si, ulong di) =>
    {
        ulong y = c.Read(SegReg.ES, di, op.Size);
        if (c.Faulted) return false;
        ulong x = c.GetReg(Cpu.RAX, op.Size);
        c.SetLazy(FlagOp.Sub, op.Size, x, y, x - y);
        return true;
    };

    private static readonly Element InsBody = (Cpu c, ref DecodedOp op, ulong si, ulong di) =>
    {
        ulong la = c.Linear(SegReg.ES, di);
        if (!c.ProbeWrite(la, op.Size)) return false;
        c.WriteLinear(la, op.Size, c.Ports.Read((ushort)c.Gpr[Cpu.RDX], op.Size));
        if (c.IoBreakpoints != 0) c.CheckIoBreakpoints((ushort)c.Gpr[Cpu.RDX], op.Size);
        return true;
    };

    private static readonly Element OutsBody = (Cpu c, ref DecodedOp op, ulong si, ulong di) =>
    {
        ulong v = c.Read(op.Seg, si, op.Size);
        if (c.Faulted) return false;
        c.Ports.Write((ushort)c.Gpr[Cpu.RDX], op.Size, (uint)v);
        if (c.IoBreakpoints != 0) c.CheckIoBreakpoints((ushort)c.Gpr[Cpu.RDX], op.Size);
        return true;
    };

    public static void Movs(Cpu c, ref DecodedOp op)
    {
        int done = 0;
        if (op.Rep != 0 && !BulkForward(c, ref op, isMovs: true, ref done)) return;
        Run(c, ref op, MovsBody, true, true, false, done);
    }

    public static void Stos(Cpu c, ref DecodedOp op)
    {
        int done = 0;
        if (op.Rep != 0 && !BulkForward(c, ref op, isMovs: false, ref done)) return;
        Run(c, ref op, StosBody, false, true, false, done);
    }

    /// <summary>
    /// Fast path for REP STOS / REP MOVS in 64-bit mode with DF clear: whole page-sized pieces of RAM at a time through
    /// the MMU, with host memset/memcpy. Pieces touching decoded code, MMIO, page-straddling elements or overlapping
    /// forward copies are left to the element loop. Returns false when it finished or stopped (fault, slice end);
    /// true when the element loop should continue from the current registers, <paramref name="done"/> elements into
    /// the slice.
    /// </summary>
    private static unsafe bool BulkForward(Cpu c, ref DecodedOp op, bool isMovs, ref int done)
    {
        if (!c.Is64 || c.DF || op.AddrSize != 8 || c.DataBreakpoints != 0) return true; // element loop: breakpoint checks
        int size = op.Size;
        while (true)
        {
            ulong count = c.Gpr[Cpu.RCX];
            if (count == 0) return false;
            if (done >= SliceElements)
            {
                c.Rip = c.InstructionStart;
                c._exitBlock = true;
                return false;
            }
            ulong di = c.Gpr[Cpu.RDI], si = c.Gpr[Cpu.RSI];
            ulong room = 4096 - (di & 0xFFF);
            if (isMovs) room = Math.Min(room, 4096 - (c.Linear(op.Seg, si) & 0xFFF));
            ulong elements = Math.Min(Math.Min(count, room / (ulong)size), (ulong)(SliceElements - done));
            if (elements == 0) return true;                       // an element straddles a page: element loop
            if (!c.Translate(di, AccessKind.Write, out ulong dpa)) return false;
            byte* dst = c.Memory.RamPointer(dpa);
            if (dst == null || (c.Memory.CodePages.Count != 0 && c.Memory.CodePages.Contains(dpa >> 12))) return true;
            if (c.Memory.Watch.Active && c.Memory.Watch.BlocksFastWrite(dpa >> 12)) return true; // the oracle sees each store
            ulong bytes = elements * (ulong)size;
            if (isMovs)
            {
                ulong sla = c.Linear(op.Seg, si);
                if (!c.Translate(sla, AccessKind.Read, out ulong spa)) return false;
                byte* src = c.Memory.RamPointer(spa);
                if (src == null || (dst > src && dst < src + bytes)) return true;
                if (c.Memory.Watch.Active && c.Memory.Watch.BlocksFastRead(spa >> 12)) return true;
                Buffer.MemoryCopy(src, dst, bytes, bytes);
                c.Gpr[Cpu.RSI] = si + bytes;
            }
            else
            {
                ulong v = c.Gpr[Cpu.RAX];
                switch (size)
                {
                    case 1: new Span<byte>(dst, (int)bytes).Fill((byte)v); break;
                    case 2: new Span<ushort>(dst, (int)elements).Fill((ushort)v); break;
                    case 4: new Span<uint>(dst, (int)elements).Fill((uint)v); break;
                    default: new Span<ulong>(dst, (int)elements).Fill(v); break;
                }
            }
            c.Gpr[Cpu.RDI] = di + bytes;
            c.Gpr[Cpu.RCX] = count - elements;
            done += (int)elements;
        }
    }
    public static void Lods(Cpu c, ref DecodedOp op) => Run(c, ref op, LodsBody, true, false, false);
    public static void Cmps(Cpu c, ref DecodedOp op) => Run(c, ref op, CmpsBody, true, true, true);
    public static void Scas(Cpu c, ref DecodedOp op) => Run(c, ref op, ScasBody, false, true, true);

    public static void Ins(Cpu c, ref DecodedOp op)
    {
        if (c.Mode != CpuMode.Real16 && c.Cpl > c.Iopl) { c.RaiseFault(Vector.GP, 0); return; }
        Run(c, ref op, InsBody, false, true, false);
    }

    public static void Outs(Cpu c, ref DecodedOp op)
    {
        if (c.Mode != CpuMode.Real16 && c.Cpl > c.Iopl) { c.RaiseFault(Vector.GP, 0); return; }
        // The element size is the memory source's: operand 0 is DX (16 bits), which made OUTSB write a word and
        // step RSI by 2.
        var element = op;
        element.Size = op.SrcSize;
        Run(c, ref element, OutsBody, true, false, false);
    }
}
