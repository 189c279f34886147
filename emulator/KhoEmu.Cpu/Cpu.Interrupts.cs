using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu;

internal enum EventKind
{
    /// <summary>A fault or trap raised by an instruction (RIP already points where the SDM says).</summary>
    Fault,
    /// <summary>INT n / INT3 / INTO: gate DPL is checked against CPL.</summary>
    Software,
    /// <summary>An external interrupt from the PIC or APIC.</summary>
    External,
    /// <summary>INT1 (ICEBP, opcode F1): a trap-like #DB with no gate-DPL check, delivered like a hardware event
    /// (SDM vol. 3, 6.12.1.1 and 6.13: EXT is set in error codes raised while delivering it).</summary>
    PrivilegedSoftware,
}

/// <summary>
/// Exception and interrupt delivery through the IVT (real mode) or IDT (protected and long mode) with privilege
/// changes through the TSS, IST stacks, double-fault escalation and triple-fault shutdown (Intel SDM vol. 3, ch. 6).
/// </summary>
public sealed partial class Cpu
{
    private ref bool _tripleFault => ref _s.TripleFault;
    private int _deliveringVector = -1;
    private bool _pushRf;

    /// <summary>RFLAGS as the event's frame saves it.</summary>
    private ulong FrameFlags() => GetRflags() | (_pushRf ? Rflags.RF : 0);

    /// <summary>The exception that could not be delivered, when the machine stopped on a triple fault.</summary>
    public bool TripleFaulted => _tripleFault;

    /// <param name="restartRip">For INT n/INT3/INTO/INT1: the instruction's own RIP, which a fault raised while
    /// delivering it pushes (the delivery faults on the instruction, SDM vol. 3, 6.12.1 and 6.13).</param>
    internal void DeliverEvent(int vector, EventKind kind, int error, bool hasError = false, ulong? restartRip = null)
    {
        int previous = _deliveringVector;
        _deliveringVector = vector;
        Faulted = false;
        _eventDelivered = true;
        // Fault-class exceptions other than #DB push RFLAGS with RF = 1, so the restarted instruction does not hit its
        // instruction breakpoint again (SDM vol. 3, 18.3.1.1); traps, interrupts and INT n push RF as it is (0).
        _pushRf = kind == EventKind.Fault && Vector.IsFault(vector);
        if (vector == Vector.DB) Dr[7] &= ~Dr7GD; // the handler may use the debug registers (SDM vol. 3, 18.2.4)
        if (Mode == CpuMode.Real16) DeliverReal(vector);
        else if ((Efer & Msr.EferLma) != 0) DeliverLong(vector, kind, error, hasError);
        else DeliverProtected(vector, kind, error, hasError);
        _deliveringVector = previous;
        _exitBlock = true;
        _halted = false;
        if (!Faulted) return;

        // A fault while delivering: escalate (SDM vol. 3, table 6-5).
        Faulted = false;
        if (restartRip is { } r) Rip = r;
        int second = _faultVector;
        if (vector == Vector.DF || previous == Vector.DF)
        {
            _tripleFault = true;
            Diagnostic = $"triple fault: {Vector.Name(second)} while delivering {Vector.Name(vector)} "
                + $"(RIP={_insnStart:x16}, CR2={Cr2:x16}, IDT base={IdtBase:x16} limit={IdtLimit:x})";
            return;
        }
        bool contributory(int v) => v is Vector.DE or Vector.TS or Vector.NP or Vector.SS or Vector.GP;
        bool df = (contributory(vector) && contributory(second))
            || (vector == Vector.PF && (second == Vector.PF || contributory(second)));
        if (df) DeliverEvent(Vector.DF, EventKind.Fault, 0, true);
        else DeliverEvent(second, EventKind.Fault, _faultError, _faultHasError);
    }

    // ---- privileged implicit accesses (descriptor tables, TSS, kernel stacks) --------------------------------------

    internal ulong SysRead(ulong la, int size)
    {
        int cpl = Cpl;
        SetCpl(0);
        _implicitSupervisor = true;
        ulong v = ReadLinear(la, size);
        _implicitSupervisor = false;
        SetCpl(cpl);
        return v;
    }

    internal void SysWrite(ulong la, int size, ulong value)
    {
        int cpl = Cpl;
        SetCpl(0);
        _implicitSupervisor = true;
        WriteLinear(la, size, value);
        _implicitSupervisor = false;
        SetCpl(cpl);
    }

    /// <summary>Reads the 8-byte descriptor for <paramref name="selector"/>; #GP(selector) beyond the table limit.</summary>
    internal bool ReadDescriptor(ushort selector, out ulong descriptor, int faultVector = Vector.GP)
    {
        descriptor = 0;
        bool ldt = (selector & 4) != 0;
        ulong tableBase = ldt ? Ldtr.Base : GdtBase;
        uint limit = ldt ? Ldtr.Limit : GdtLimit;
        uint offset = (uint)(selector & ~7);
        if (offset + 7 > limit)
        {
            RaiseFault(faultVector, selector & 0xFFFC);
            return false;
        }
        descriptor = SysRead(tableBase + offset, 8);
        return !Faulted;
    }

    private void DeliverReal(int vector)
    {
        ulong entry = IdtBase + (ulong)vector * 4;
        ulong ip = SysRead(entry, 2), cs = SysRead(entry + 2, 2);
        if (Faulted) return;
        Push16((ushort)GetRflags());
        Push16(Seg[SegReg.CS].Selector);
        Push16((ushort)Rip);
        if (Faulted) return;
        _rflags &= ~(Rflags.IF | Rflags.TF | Rflags.AC);
        Seg[SegReg.CS] = SegmentCache.RealMode((ushort)cs, 0x9B);
        Rip = ip;
    }

    private void Push16(ushort v)
    {
        ulong sp = (Gpr[RSP] - 2) & 0xFFFF;
        Write(SegReg.SS, sp, 2, v);
        if (!Faulted) Gpr[RSP] = (Gpr[RSP] & ~0xFFFFUL) | sp;
    }

    /// <summary>
    /// The EXT bit of error codes raised while delivering an event (SDM vol. 3, 6.13): clear only for INT n, INT3 and
    /// INTO; set for external interrupts, exceptions and INT1.
    /// </summary>
    private static int ExtBit(EventKind kind) => kind == EventKind.Software ? 0 : 1;

    /// <summary>Reads and checks an IDT gate; returns false with a fault pending when the gate is unusable.</summary>
    private bool ReadGate(int vector, EventKind kind, int gateSize, out ulong lo, out ulong hi)
    {
        lo = hi = 0;
        int ext = ExtBit(kind);
        ulong offset = (ulong)vector * (ulong)gateSize;
        if (offset + (ulong)gateSize - 1 > IdtLimit)
        {
            RaiseFault(Vector.GP, vector * 8 + 2 + ext);
            return false;
        }
        lo = SysRead(IdtBase + offset, 8);
        if (gateSize == 16) hi = SysRead(IdtBase + offset + 8, 8);
        if (Faulted) return false;
        int type = (int)(lo >> 40) & 0xF;
        int dpl = (int)(lo >> 45) & 3;
        bool validType = gateSize == 16 ? type is 0xE or 0xF : type is 0x6 or 0x7 or 0xE or 0xF;
        if (!validType || (kind == EventKind.Software && dpl < Cpl))
        {
            RaiseFault(Vector.GP, vector * 8 + 2 + ext);
            return false;
        }
        if ((lo & (1UL << 47)) == 0)
        {
            RaiseFault(Vector.NP, vector * 8 + 2 + ext);
            return false;
        }
        return true;
    }

    /// <summary>Loads the code segment a gate names; returns its descriptor cache or raises #GP.</summary>
    private bool LoadGateTarget(ushort selector, int ext, out SegmentCache cs)
    {
        cs = default;
        if ((selector & 0xFFFC) == 0)
        {
            RaiseFault(Vector.GP, ext);
            return false;
        }
        if (!ReadDescriptor(selector, out ulong d)) return false;
        cs = SegmentCache.FromDescriptor(selector, d);
        if (!cs.IsCode || cs.Dpl > Cpl)
        {
            RaiseFault(Vector.GP, (selector & 0xFFFC) + ext);
            return false;
        }
        if (!cs.Present)
        {
            RaiseFault(Vector.NP, (selector & 0xFFFC) + ext);
            return false;
        }
        return true;
    }

    private void DeliverLong(int vector, EventKind kind, int error, bool hasError)
    {
        if (!ReadGate(vector, kind, 16, out ulong lo, out ulong hi)) return;
        int ext = ExtBit(kind);
        ushort selector = (ushort)(lo >> 16);
        ulong target = (lo & 0xFFFF) | ((lo >> 32) & 0xFFFF_0000) | (hi << 32);
        int ist = (int)(lo >> 32) & 7;
        if (!LoadGateTarget(selector, ext, out var cs)) return;
        if (!cs.Long)
        {
            RaiseFault(Vector.GP, (selector & 0xFFFC) + ext);
            return;
        }
        int newCpl = cs.Dpl;
        ulong rsp = Gpr[RSP];
        var oldSs = Seg[SegReg.SS];
        if (ist != 0) rsp = SysRead(Tr.Base + 0x24 + (ulong)(ist - 1) * 8, 8);
        else if (newCpl < Cpl) rsp = SysRead(Tr.Base + 4 + (ulong)newCpl * 8, 8);
        if (Faulted) return;
        rsp &= ~0xFUL;
        ulong flags = FrameFlags();
        Span<ulong> frame = [oldSs.Selector, Gpr[RSP], flags, Seg[SegReg.CS].Selector, Rip, (ulong)(uint)error];
        int count = hasError ? 6 : 5;
        int cpl = Cpl;
        SetCpl(newCpl);
        for (int i = 0; i < count; i++)
        {
            rsp -= 8;
            SysWrite(rsp, 8, frame[i]);
            if (Faulted)
            {
                SetCpl(cpl);
                return;
            }
        }
        if (newCpl != cpl)
            Seg[SegReg.SS] = new SegmentCache { Selector = (ushort)newCpl, Attributes = (ushort)(0x93 | (newCpl << 5)) };
        cs.Selector = (ushort)((selector & 0xFFFC) | newCpl);
        Seg[SegReg.CS] = cs;
        Gpr[RSP] = rsp;
        Rip = target;
        ulong clear = Rflags.TF | Rflags.NT | Rflags.RF | Rflags.VM;
        if (((lo >> 40) & 0xF) == 0xE) clear |= Rflags.IF;
        _rflags &= ~clear;
        UpdateMode();
    }

    private void DeliverProtected(int vector, EventKind kind, int error, bool hasError)
    {
        if (!ReadGate(vector, kind, 8, out ulong lo, out _)) return;
        int ext = ExtBit(kind);
        int type = (int)(lo >> 40) & 0xF;
        bool gate32 = (type & 8) != 0;
        ushort selector = (ushort)(lo >> 16);
        ulong target = (lo & 0xFFFF) | ((lo >> 32) & 0xFFFF_0000);
        if (!gate32) target &= 0xFFFF;
        if (!LoadGateTarget(selector, ext, out var cs)) return;
        int newCpl = cs.Dpl;
        int cpl = Cpl;
        var oldSs = Seg[SegReg.SS];
        ulong oldEsp = Gpr[RSP];
        var ss = oldSs;
        ulong esp = oldEsp;
        if (newCpl < cpl)
        {
            // 32-bit TSS: ESPn at 4 + 8n, SSn at 8 + 8n.
            esp = SysRead(Tr.Base + 4 + (ulong)newCpl * 8, 4);
            ushort ssSel = (ushort)SysRead(Tr.Base + 8 + (ulong)newCpl * 8, 2);
            if (Faulted || !ReadDescriptor(ssSel, out ulong ssd, Vector.TS)) return;
            ss = SegmentCache.FromDescriptor(ssSel, ssd);
        }
        ulong flags = FrameFlags();
        int w = gate32 ? 4 : 2;
        Span<ulong> frame = [oldSs.Selector, oldEsp, flags, Seg[SegReg.CS].Selector, Rip, (ulong)(uint)error];
        int first = newCpl < cpl ? 0 : 2;
        int last = hasError ? 6 : 5;
        SetCpl(newCpl);
        ulong stackMask = ss.Big ? 0xFFFF_FFFFUL : 0xFFFFUL;
        for (int i = first; i < last; i++)
        {
            esp = (esp - (ulong)w) & stackMask;
            SysWrite((uint)(ss.Base + esp), w, frame[i]);
            if (Faulted)
            {
                SetCpl(cpl);
                return;
            }
        }
        Seg[SegReg.SS] = ss;
        Gpr[RSP] = ss.Big ? esp : (Gpr[RSP] & ~0xFFFFUL) | esp;
        cs.Selector = (ushort)((selector & 0xFFFC) | newCpl);
        Seg[SegReg.CS] = cs;
        Rip = target;
        ulong clear = Rflags.TF | Rflags.NT | Rflags.RF | Rflags.VM;
        if ((type & 7) == 6) clear |= Rflags.IF;
        _rflags &= ~clear;
        UpdateMode();
    }
}
