using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu;

/// <summary>Segment loads, far transfers, interrupt return and fast system calls (Intel SDM vol. 3, ch. 3, 5, 6).</summary>
public sealed partial class Cpu
{
    /// <summary>
    /// MOV/POP to a segment register. Real mode: base = selector × 16. Protected mode: the descriptor is loaded and
    /// checked for presence and type (limits are recorded but not enforced; see docs/cpu.md).
    /// </summary>
    internal void LoadSegmentRegister(int seg, ushort selector)
    {
        if (Mode == CpuMode.Real16)
        {
            Seg[seg] = SegmentCache.RealMode(selector, seg == SegReg.CS ? (ushort)0x9B : Seg[seg].Attributes == 0 ? (ushort)0x93 : Seg[seg].Attributes);
            return;
        }
        if ((selector & 0xFFFC) == 0)
        {
            if (seg == SegReg.SS && (!Is64 || Cpl == 3)) { RaiseFault(Vector.GP, 0); return; }
            Seg[seg] = new SegmentCache { Selector = selector };
            return;
        }
        if (!ReadDescriptor(selector, out ulong d)) return;
        var cache = SegmentCache.FromDescriptor(selector, d);
        if ((cache.Attributes & 0x10) == 0) { RaiseFault(Vector.GP, selector & 0xFFFC); return; }
        if (seg == SegReg.SS)
        {
            bool writableData = (cache.Attributes & 0x1A) == 0x12;
            if (!writableData || (selector & 3) != Cpl || cache.Dpl != Cpl) { RaiseFault(Vector.GP, selector & 0xFFFC); return; }
            if (!cache.Present) { RaiseFault(Vector.SS, selector & 0xFFFC); return; }
        }
        else if (!cache.Present) { RaiseFault(Vector.NP, selector & 0xFFFC); return; }
        if (seg >= SegReg.FS && Is64) cache.Base = (uint)cache.Base; // the MSR holds the 64-bit base
        Seg[seg] = cache;
        SetAccessedBit(selector, d);
    }

    /// <summary>
    /// Reads a descriptor for VERR/VERW/LAR/LSL: false (no fault) for a null selector or one beyond the GDT/LDT limit;
    /// a fault reading the table itself (a page fault) stays pending.
    /// </summary>
    internal bool TryReadDescriptorQuietly(ushort selector, out ulong descriptor)
    {
        descriptor = 0;
        if ((selector & 0xFFFC) == 0) return false;
        bool ldt = (selector & 4) != 0;
        uint offset = (uint)(selector & ~7);
        if (offset + 7 > (ldt ? Ldtr.Limit : GdtLimit)) return false;
        descriptor = SysRead((ldt ? Ldtr.Base : GdtBase) + offset, 8);
        return !Faulted;
    }

    private void SetAccessedBit(ushort selector, ulong d)
    {
        if ((d & (1UL << 40)) != 0) return;
        ulong tableBase = (selector & 4) != 0 ? Ldtr.Base : GdtBase;
        SysWrite(tableBase + (uint)(selector & ~7) + 5, 1, (byte)((d >> 40) | 1));
        Faulted = false;
    }

    /// <summary>JMP/CALL/RET far: loads CS (no call gates or task switches) and sets RIP.</summary>
    internal void FarTransfer(ushort selector, ulong offset, int _)
    {
        if (Mode == CpuMode.Real16)
        {
            Seg[SegReg.CS] = SegmentCache.RealMode(selector, 0x9B);
            Rip = offset & 0xFFFF;
            _exitBlock = true;
            return;
        }
        if ((selector & 0xFFFC) == 0) { RaiseFault(Vector.GP, 0); return; }
        if (!ReadDescriptor(selector, out ulong d)) return;
        var cs = SegmentCache.FromDescriptor(selector, d);
        if (!cs.IsCode)
        {
            StopUnsupported("far transfer through a system descriptor (call gate or TSS)");
            return;
        }
        if (!cs.Present) { RaiseFault(Vector.NP, selector & 0xFFFC); return; }
        int rpl = selector & 3;
        bool conforming = (cs.Attributes & 4) != 0;
        int newCpl = conforming ? Cpl : Math.Max(rpl, cs.Dpl);
        if (!conforming && cs.Dpl != newCpl) { RaiseFault(Vector.GP, selector & 0xFFFC); return; }
        cs.Selector = (ushort)((selector & 0xFFFC) | newCpl);
        Seg[SegReg.CS] = cs;
        SetCpl(newCpl);
        UpdateMode();
        Rip = Mode == CpuMode.Long64 ? offset : cs.Big ? (uint)offset : offset & 0xFFFF;
        _exitBlock = true;
    }

    /// <summary>INT n/INT3/INTO (gate DPL checked) and INT1 (<see cref="EventKind.PrivilegedSoftware"/>): traps
    /// whose saved RIP is the next instruction.</summary>
    internal void SoftwareInterrupt(int vector, EventKind kind = EventKind.Software)
    {
        if (Faulted) return;
        ulong start = _insnStart;
        _insnStart = Rip; // the return address is the next instruction
        DeliverEvent(vector, kind, 0, restartRip: start);
        if (Faulted) return;
        _exitBlock = true;
    }

    /// <summary>IRET/IRETD/IRETQ (Intel SDM vol. 2, IRET): same-privilege and outer-privilege returns; no task return.</summary>
    internal void InterruptReturn(int size)
    {
        EndNmiBlocking(); // even when the IRET faults (SDM vol. 3, 6.7.1)
        if (Mode == CpuMode.Real16)
        {
            ulong ip = PeekStack(size), cs = PeekStack(size, (ulong)size), fl = PeekStack(size, (ulong)(2 * size));
            if (Faulted) return;
            AdjustStack(3 * size);
            Seg[SegReg.CS] = SegmentCache.RealMode((ushort)cs, 0x9B);
            Rip = size == 4 ? (uint)ip : ip & 0xFFFF;
            WriteFlagsFromStack(fl, size);
            _exitBlock = true;
            return;
        }
        if ((_rflags & Rflags.NT) != 0 && !Is64) { StopUnsupported("IRET with NT set (task return)"); return; }
        ulong newIp = PeekStack(size);
        ushort newCs = (ushort)PeekStack(size, (ulong)size);
        ulong newFlags = PeekStack(size, (ulong)(2 * size));
        if (Faulted) return;
        int rpl = newCs & 3;
        if (rpl < Cpl) { RaiseFault(Vector.GP, newCs & 0xFFFC); return; }
        bool popStack = Is64 || rpl > Cpl;
        ulong newSp = 0;
        ushort newSs = 0;
        if (popStack)
        {
            newSp = PeekStack(size, (ulong)(3 * size));
            newSs = (ushort)PeekStack(size, (ulong)(4 * size));
            if (Faulted) return;
        }
        int oldCpl = Cpl;
        var savedCs = Seg[SegReg.CS];
        FarTransfer(newCs, newIp, SegReg.CS);
        if (Faulted) return;
        if (popStack)
        {
            int cpl = Cpl;
            SetCpl(rpl);
            if ((newSs & 0xFFFC) == 0 && Is64 && rpl != 3)
                Seg[SegReg.SS] = new SegmentCache { Selector = newSs, Attributes = (ushort)(0x93 | (rpl << 5)) };
            else LoadSegmentRegister(SegReg.SS, newSs);
            if (Faulted)
            {
                SetCpl(cpl);
                Seg[SegReg.CS] = savedCs;
                SetCpl(oldCpl);
                UpdateMode();
                return;
            }
            Gpr[RSP] = size == 2 ? (Gpr[RSP] & ~0xFFFFUL) | (newSp & 0xFFFF) : size == 4 ? (uint)newSp : newSp;
        }
        else AdjustStack(3 * size);
        ulong writable = Rflags.Writable;
        if (oldCpl != 0) writable &= ~Rflags.IOPL;
        if (oldCpl > Iopl) writable &= ~Rflags.IF;
        if (size == 2) writable &= 0xFFFF;
        MaterializeFlags();
        _rflags = (_rflags & ~writable) | (newFlags & writable) | Rflags.Reserved1;
        _rfLoaded = (_rflags & Rflags.RF) != 0;
        if (rpl > oldCpl) ClearDataSegmentsAbove(rpl);
        _exitBlock = true;
    }

    private void ClearDataSegmentsAbove(int cpl)
    {
        foreach (int s in (ReadOnlySpan<int>)[SegReg.ES, SegReg.DS, SegReg.FS, SegReg.GS])
        {
            var sc = Seg[s];
            bool conformingCode = (sc.Attributes & 0x1C) == 0x1C;
            if (!conformingCode && sc.Dpl < cpl && (sc.Selector & 0xFFFC) != 0)
                Seg[s] = new SegmentCache { Selector = 0, Base = s >= SegReg.FS && Is64 ? sc.Base : 0 };
        }
    }

    /// <summary>POPF/IRET flag write rules: IOPL only at CPL 0, IF only when CPL ≤ IOPL.</summary>
    internal void WriteFlagsFromStack(ulong value, int size)
    {
        ulong writable = Rflags.Writable & ~Rflags.RF;
        if (Cpl != 0) writable &= ~Rflags.IOPL;
        if (Mode != CpuMode.Real16 && Cpl > Iopl) writable &= ~Rflags.IF;
        if (size == 2) writable &= 0xFFFF;
        MaterializeFlags();
        bool wasIf = IF;
        _rflags = (_rflags & ~writable) | (value & writable) | Rflags.Reserved1;
        // Newly enabled interrupts, and TF (single-step from the next instruction on), need the run loop's checks.
        if ((!wasIf && IF) || (_rflags & Rflags.TF) != 0) _exitBlock = true;
    }

    internal void Halt()
    {
        _halted = true;
        _exitBlock = true;
    }

    /// <summary>
    /// SYSCALL. Intel (SDM vol. 2B): 64-bit mode only, #UD elsewhere. AMD (APM vol. 3, SYSCALL): any protected mode;
    /// in long mode RIP = LSTAR from 64-bit mode and CSTAR from compatibility mode, outside long mode EIP = STAR[31:0]
    /// with a flat 32-bit CS (RFLAGS.VM, IF and RF cleared, no SFMASK). Both: RCX = next RIP, R11 = RFLAGS in long
    /// mode, CS/SS from STAR[47:32], CPL 0. The rule follows the model's CPUID vendor. Real mode: #UD on both.
    /// </summary>
    internal void Syscall()
    {
        bool longMode = (Efer & Msr.EferLma) != 0;
        bool allowed = Model.IsIntel ? Is64 : Mode != CpuMode.Real16;
        if ((Efer & Msr.EferSce) == 0 || !allowed) { RaiseFault(Vector.UD); return; }
        SyscallObserver?.Invoke(this);
        ulong star = ReadMsrValue(Msr.Star);
        ushort sel = (ushort)(star >> 32);
        if (!longMode)
        {
            Gpr[RCX] = (uint)Rip;
            Seg[SegReg.CS] = new SegmentCache { Selector = (ushort)(sel & 0xFFFC), Limit = 0xFFFFFFFF, Attributes = 0xC09B };
            Seg[SegReg.SS] = new SegmentCache { Selector = (ushort)((sel + 8) & 0xFFFC), Limit = 0xFFFFFFFF, Attributes = 0xC093 };
            SetCpl(0);
            _rflags &= ~(Rflags.VM | Rflags.IF | Rflags.RF);
            Rip = (uint)star;
            UpdateMode();
            _exitBlock = true;
            return;
        }
        Gpr[RCX] = Rip;
        Gpr[11] = GetRflags() & ~Rflags.RF;
        Seg[SegReg.CS] = new SegmentCache { Selector = (ushort)(sel & 0xFFFC), Limit = 0xFFFFFFFF, Attributes = 0xA09B };
        Seg[SegReg.SS] = new SegmentCache { Selector = (ushort)((sel + 8) & 0xFFFC), Limit = 0xFFFFFFFF, Attributes = 0xC093 };
        SetCpl(0);
        _rflags &= ~(ReadMsrValue(Msr.Sfmask) | Rflags.RF);
        _rflags |= Rflags.Reserved1;
        Rip = ReadMsrValue(Is64 ? Msr.Lstar : Msr.Cstar);
        UpdateMode();
        _exitBlock = true;
    }

    /// <summary>SYSRET: back to CPL 3 with CS/SS from STAR[63:48].</summary>
    internal void Sysret(bool to64)
    {
        if ((Efer & Msr.EferSce) == 0 || !Is64) { RaiseFault(Vector.UD); return; }
        if (Cpl != 0) { RaiseFault(Vector.GP, 0); return; }
        if (to64 && (Gpr[RCX] >> 47) != 0 && (Gpr[RCX] >> 47) != 0x1FFFF) { RaiseFault(Vector.GP, 0); return; }
        ulong star = ReadMsrValue(Msr.Star);
        ushort sel = (ushort)(star >> 48);
        Seg[SegReg.CS] = to64
            ? new SegmentCache { Selector = (ushort)((sel + 16) | 3), Limit = 0xFFFFFFFF, Attributes = 0xA0FB }
            : new SegmentCache { Selector = (ushort)(sel | 3), Limit = 0xFFFFFFFF, Attributes = 0xC0FB };
        Seg[SegReg.SS] = new SegmentCache { Selector = (ushort)((sel + 8) | 3), Limit = 0xFFFFFFFF, Attributes = 0xC0F3 };
        SetCpl(3);
        SetRflags((Gpr[11] & Rflags.Writable) | Rflags.Reserved1);
        Rip = to64 ? Gpr[RCX] : (uint)Gpr[RCX];
        UpdateMode();
        _exitBlock = true;
    }
}
