using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu;

/// <summary>
/// Debug registers and debug exceptions (Intel SDM vol. 3, chapter 18): DR0-DR3 breakpoint addresses, DR6 status and
/// DR7 control with their fixed bits (18.2), DR4/DR5 aliasing DR6/DR7 while CR4.DE = 0 (18.2.2), general detect
/// (DR7.GD), instruction breakpoints (faults, suppressed by RFLAGS.RF), data breakpoints (traps) and single-step
/// traps (TF). I/O breakpoints (R/W = 10b with CR4.DE) are not implemented: CPUID does not advertise DE.
/// </summary>
public sealed partial class Cpu
{
    /// <summary>DR6 bits that always read 1 (bits 4-11, 16-31; bit 16 is RTM's active-low flag, no RTM here).</summary>
    private const ulong Dr6Fixed1 = 0xFFFF_0FF0;
    /// <summary>DR6 bits software and the processor can change: B0-B3, BD, BS, BT.</summary>
    private const ulong Dr6Writable = 0xE00F;
    /// <summary>DR7 bits that can be set: L0-G3, LE, GE, GD, R/W and LEN fields. Bit 10 reads 1; 11, 12, 14, 15 read 0.</summary>
    private const ulong Dr7Writable = 0xFFFF_23FF, Dr7Fixed1 = 0x400;
    internal const ulong Dr6BD = 1 << 13, Dr6BS = 1 << 14;
    private const ulong Dr7GD = 1 << 13;

    /// <summary>Enabled instruction breakpoints (bit n: DRn) and enabled data breakpoints, recomputed on DR writes.</summary>
    private int _codeBreakpoints;
    internal int DataBreakpoints;
    /// <summary>Data breakpoints hit by the current instruction (DR6 B0-B3 bits), reported as a trap after it.</summary>
    private ref ulong _dataHits => ref _s.DataHits;
    /// <summary>Debug trap bits held over a MOV SS/POP SS (SDM vol. 3, 6.8.3): delivered after the next instruction.</summary>
    private ref ulong _pendingDebugTrap => ref _s.PendingDebugTrap;

    /// <summary>True when instructions must run one at a time for debug checks or an interrupt shadow.</summary>
    private bool NeedsStepping => _shadow != 0 || (_rflags & (Rflags.TF | Rflags.RF)) != 0
        || _codeBreakpoints != 0 || DataBreakpoints != 0 || _pendingDebugTrap != 0;

    private void ResetDebugState()
    {
        ((Span<ulong>)Dr).Clear();
        Dr[6] = Dr6Fixed1;
        Dr[7] = Dr7Fixed1;
        _codeBreakpoints = DataBreakpoints = 0;
        _dataHits = _pendingDebugTrap = 0;
    }

    /// <summary>
    /// Resolves a MOV to/from DRn (SDM vol. 2, MOV—Move to/from Debug Registers): DR4/DR5 are DR6/DR7 with CR4.DE
    /// clear and #UD with it set; DR7.GD makes any access a #DB fault with DR6.BD. Returns -1 with a fault pending.
    /// </summary>
    internal int DebugRegisterIndex(int n)
    {
        if (n is 4 or 5)
        {
            if ((Cr4 & ControlBits.Cr4DE) != 0) { RaiseFault(Vector.UD); return -1; }
            n += 2;
        }
        if (n > 7) { RaiseFault(Vector.UD); return -1; }
        if ((Dr[7] & Dr7GD) != 0)
        {
            Dr[6] |= Dr6BD;
            RaiseFault(Vector.DB);
            return -1;
        }
        return n;
    }

    /// <summary>MOV to DRn after <see cref="DebugRegisterIndex"/>; #GP(0) for bits 63:32 of DR6/DR7.</summary>
    internal void WriteDebugRegister(int n, ulong value)
    {
        if (n >= 6 && (value >> 32) != 0) { RaiseFault(Vector.GP, 0); return; }
        if (n == 6) Dr[6] = (value & Dr6Writable) | Dr6Fixed1;
        else if (n == 7) Dr[7] = (value & Dr7Writable) | Dr7Fixed1;
        else Dr[n] = Is64 || (Efer & Msr.EferLma) != 0 ? value : (uint)value;
        if (n != 6) UpdateBreakpoints();
    }

    private void UpdateBreakpoints()
    {
        int code = 0, data = 0;
        for (int i = 0; i < 4; i++)
        {
            if (((Dr[7] >> (2 * i)) & 3) == 0) continue;
            int rw = (int)(Dr[7] >> (16 + 4 * i)) & 3;
            if (rw == 0) code |= 1 << i;
            else if (rw != 2) data |= 1 << i; // R/W = 10b: I/O breakpoints, not implemented (no CPUID.DE)
        }
        bool dataChanged = data != DataBreakpoints;
        _codeBreakpoints = code;
        DataBreakpoints = data;
        // Pages holding a data breakpoint must leave the TLB fast paths, which do not check breakpoints.
        if (dataChanged || data != 0) FlushTlb();
        _exitBlock = true;
    }

    /// <summary>Breakpoint n's address range: DRn aligned down to its length (LEN 00 = 1, 01 = 2, 11 = 4, 10 = 8 bytes).</summary>
    private (ulong Start, ulong Length) BreakpointRange(int i)
    {
        ulong len = ((Dr[7] >> (18 + 4 * i)) & 3) switch { 0 => 1UL, 1 => 2UL, 3 => 4UL, _ => 8UL };
        return (Dr[i] & ~(len - 1), len);
    }

    /// <summary>True when the 4 KiB page of <paramref name="la"/> holds a data breakpoint (the TLB keeps it off the fast path).</summary>
    private bool PageHasDataBreakpoint(ulong la)
    {
        for (int i = 0; i < 4; i++)
        {
            if ((DataBreakpoints & (1 << i)) == 0) continue;
            var (start, len) = BreakpointRange(i);
            if ((start >> 12) == (la >> 12) || ((start + len - 1) >> 12) == (la >> 12)) return true;
        }
        return false;
    }

    /// <summary>Records the data breakpoints an access of [la, la + size) hits (R/W 01b: writes only; 11b: both).</summary>
    private void CheckDataBreakpoints(ulong la, int size, bool write)
    {
        for (int i = 0; i < 4; i++)
        {
            if ((DataBreakpoints & (1 << i)) == 0) continue;
            if (!write && ((Dr[7] >> (16 + 4 * i)) & 3) == 1) continue;
            var (start, len) = BreakpointRange(i);
            if (la < start + len && start < la + (ulong)size) _dataHits |= 1UL << i;
        }
    }

    /// <summary>Instruction breakpoints matching the linear address of the next instruction (DR6 B0-B3 bits).</summary>
    private ulong CodeBreakpointHits(ulong linear)
    {
        ulong hits = 0;
        for (int i = 0; i < 4; i++)
            if ((_codeBreakpoints & (1 << i)) != 0 && Dr[i] == linear) hits |= 1UL << i;
        return hits;
    }

    /// <summary>
    /// Runs one instruction with the checks the fast block loop skips: an instruction breakpoint before it (a fault,
    /// unless RF is set), then the single-step and data-breakpoint traps after it (DR6.BS, B0-B3; RIP = the next
    /// instruction), held over one more instruction after MOV SS/POP SS; the interrupt shadow ends with it, and RF
    /// is cleared unless the instruction was an IRET that loaded it (SDM vol. 3, 18.3.1.1).
    /// </summary>
    private void StepInstruction(ulong limit)
    {
        _insnStart = Rip;
        if ((_rflags & Rflags.RF) == 0 && _codeBreakpoints != 0)
        {
            ulong hits = CodeBreakpointHits(Is64 ? Rip : (uint)(Seg[SegReg.CS].Base + Rip));
            if (hits != 0)
            {
                Dr[6] = (Dr[6] & ~0xFUL) | hits;
                DeliverEvent(Vector.DB, EventKind.Fault, 0);
                return;
            }
        }
        bool tf = (_rflags & Rflags.TF) != 0;
        int shadowBefore = _shadow;
        ulong before = InstructionCount;
        _eventDelivered = false;
        _rfLoaded = false;
        _dataHits = 0;
        ExecuteBlock(limit, single: true);
        if (Faulted || InstructionCount == before) return; // the run loop delivers the fault
        _shadow = shadowBefore == 0 ? _shadowRequest : 0;   // a shadow inside a shadow does not extend it
        _shadowRequest = 0;
        if (!_rfLoaded) _rflags &= ~Rflags.RF;
        if (_eventDelivered) { _dataHits = 0; return; }     // INT n/INT3/INTO/INT1: the handler runs, no trap
        ulong trap = _pendingDebugTrap | _dataHits | (tf ? Dr6BS : 0);
        _dataHits = 0;
        if (trap == 0) return;
        if (_shadow == ShadowMovSs) { _pendingDebugTrap = trap; return; }
        _pendingDebugTrap = 0;
        Dr[6] |= trap;
        _insnStart = Rip;
        DeliverEvent(Vector.DB, EventKind.Fault, 0);
    }
}
