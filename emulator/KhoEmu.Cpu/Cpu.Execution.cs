using System.Runtime.CompilerServices;
using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu;

/// <summary>The run loop: fetch a decoded block, execute it, deliver faults and interrupts, advance virtual time.</summary>
public sealed unsafe partial class Cpu
{
    private readonly BlockCache _blocks;
    private ref CpuMsrs _msrs => ref _s.Msrs;
    internal bool _exitBlock;
    private ref bool _halted => ref _s.Halted;
    private bool _stopRequested;
    private ulong _insnStart;
    private ref ulong _idleTime => ref _s.IdleTime;     // virtual ns spent halted
    /// <summary>The interrupt shadow over the next instruction (SDM vol. 3, 6.8.3): none, after STI, or after
    /// MOV SS/POP SS (which also holds NMIs and debug traps). <see cref="_shadowRequest"/> is what the current
    /// instruction asks for; it takes effect when the instruction retires.</summary>
    private ref int _shadow => ref _s.Shadow;
    private ref int _shadowRequest => ref _s.ShadowRequest;
    internal const int ShadowSti = 1, ShadowMovSs = 2;
    /// <summary>NMIs are blocked from the delivery of one until the next IRET (SDM vol. 3, 6.7.1).</summary>
    private ref bool _nmiBlocked => ref _s.NmiBlocked;
    /// <summary>Set by every event delivery; an instruction that delivered one (INT n) takes no single-step trap.</summary>
    private bool _eventDelivered;
    /// <summary>Set when IRET loaded RFLAGS.RF: it then survives the IRET to cover the next instruction.</summary>
    internal bool _rfLoaded;

    internal bool Faulted;
    private int _faultVector;
    private int _faultError;
    private bool _faultHasError;

    /// <summary>Set when the run stopped on an error: what happened, where, and the instruction's disassembly.</summary>
    public string? Diagnostic { get; private set; }

    /// <summary>Blocks decoded and blocks dropped by code writes so far.</summary>
    public long BlocksDecoded => _blocks.Decoded;
    public long CodeInvalidations => _blocks.Invalidations;

    /// <summary>Optional per-instruction hook (tracing). When set, blocks are executed one instruction at a time.</summary>
    public Action<Cpu>? TraceHook { get; set; }

    /// <summary>Asks the run loop to return at the next instruction boundary (device callbacks call this).</summary>
    public void RequestStop()
    {
        _stopRequested = true;
        _exitBlock = true;
    }

    /// <summary>Ends the current block after the instruction executing now (the machine calls it on every device
    /// access): an interrupt the access raised, or a timer it armed, is then seen at the next instruction boundary,
    /// wherever the block happened to begin (a run continued from a snapshot begins its blocks elsewhere).</summary>
    public void EndBlock() => _exitBlock = true;

    /// <summary>Raises a guest exception; it is delivered when the current instruction is abandoned.</summary>
    internal void RaiseFault(int vector, int errorCode = 0)
    {
        if (Faulted) return;
        Faulted = true;
        _faultVector = vector;
        _faultError = errorCode;
        _faultHasError = Vector.HasErrorCode(vector);
        _exitBlock = true;
    }

    internal void ClearFault()
    {
        Faulted = false;
    }

    internal void StopUnsupported(string why)
    {
        Diagnostic = $"{why} at RIP={_insnStart:x16}: {DescribeInstructionAt(_insnStart)}";
        _unsupported = true;
        _exitBlock = true;
    }

    private bool _unsupported;

    /// <summary>Instructions of the current block retired before the one executing now (0 between blocks), so that
    /// the time a device or RDTSC sees mid-block does not depend on where the block began.</summary>
    private uint _inBlock;

    /// <summary>Virtual time implied by execution: one instruction is one nanosecond, plus time spent halted.</summary>
    private ulong VirtualNow => InstructionCount + _inBlock + _idleTime;

    /// <summary>The CPU's virtual time (instructions retired before the current block, plus idle time); the machine
    /// brings the clock up to it before device accesses.</summary>
    public ulong VirtualTime => VirtualNow;

    /// <summary>Runs until <paramref name="maxInstructions"/> retire or something stops the machine.</summary>
    public StopReason Run(ulong maxInstructions = ulong.MaxValue)
    {
        _stopRequested = false;
        ulong limit = maxInstructions == ulong.MaxValue ? ulong.MaxValue : InstructionCount + maxInstructions;
        while (true)
        {
            if (_stopRequested) return StopReason.Requested;
            if (_unsupported) return StopReason.Unsupported;
            // A triple fault can happen inside an instruction (INT n, INT3, INTO, INT1 deliver from their handler), so
            // the shutdown state is checked on every pass, not only after faults the loop itself delivers.
            if (_tripleFault) return StopReason.TripleFault;
            if (InstructionCount >= limit) return StopReason.InstructionLimit;
            if (_waitForSipi) return StopReason.Halted; // an application processor nobody started (yet)

            if (VirtualNow >= Clock.NextDeadline) Clock.AdvanceTo(VirtualNow);
            if (_stopRequested) continue;
            if (_nmiPending && TryDeliverNmi()) continue;

            if (_shadow == 0 && Interrupts is { } pic)
            {
                if (!_nmiBlocked && pic.HasPendingNmi && pic.AcknowledgeNmi())
                {
                    _nmiBlocked = true;
                    _halted = false;
                    _insnStart = Rip;
                    DeliverEvent(Vector.NMI, EventKind.External, 0);
                    continue;
                }
                int vector = IF && pic.HasPendingInterrupt ? pic.AcknowledgeInterrupt() : -1;
                if (vector >= 0)
                {
                    _halted = false;
                    _insnStart = Rip;
                    DeliverEvent(vector, EventKind.External, 0);
                    continue;
                }
            }

            if (_halted)
            {
                if (YieldOnHalt) return StopReason.Halted;
                ulong next = Clock.NextDeadline;
                if (!IF || next == ulong.MaxValue)
                {
                    Diagnostic = IF
                        ? $"HLT at RIP={Rip:x16} with interrupts enabled but no timer or device event pending"
                        : $"HLT at RIP={Rip:x16} with interrupts disabled: the CPU can never wake";
                    return StopReason.HaltedForever;
                }
                _idleTime += next - VirtualNow;
                continue;
            }

            if (NeedsStepping) StepInstruction(limit);
            else ExecuteBlock(limit, single: false);
            if (Faulted)
            {
                Faulted = false;
                Rip = _insnStart;
                _shadow = _shadowRequest = 0;
                _dataHits = _pendingDebugTrap = 0;
                DeliverEvent(_faultVector, EventKind.Fault, _faultError, _faultHasError);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ExecuteBlock(ulong limit, bool single)
    {
        ulong linear = Is64 ? Rip : (uint)(Seg[SegReg.CS].Base + Rip);
        _insnStart = Rip;
        if (!Translate(linear, AccessKind.Execute, out ulong phys)) return;
        int bitness = Bitness;
        var block = _blocks.Lookup(phys, bitness);
        if (block is null)
        {
            block = _blocks.Decode(phys, Rip, linear, bitness);
            if (block is not null) NewCodeObserver?.Invoke(this, phys);
        }
        if (block is null)
        {
            // No fault pending means the bytes are not in RAM or ROM (unassigned space or a device): stop with a
            // diagnostic, as QEMU does for code outside RAM or ROM, instead of spinning on the same fetch forever.
            if (!Faulted) StopUnsupported($"instruction fetch from physical 0x{phys:x}, which is neither RAM nor ROM");
            return;
        }

        var ops = block.Ops;
        ulong budget = limit - InstructionCount;
        int n = ops.Length;
        if ((ulong)n > budget) n = (int)budget;
        if ((single || TraceHook is not null) && n > 1) n = 1;
        // A block never runs past the next timer deadline: the event fires at its instruction boundary exactly, not
        // at the end of whichever block covers it (blocks begin elsewhere after a stop at instruction N).
        ulong due = Clock.NextDeadline, now = VirtualNow;
        if (due > now && due - now < (ulong)n) n = (int)(due - now);
        _exitBlock = false;
        ulong mask = bitness == 64 ? ulong.MaxValue : bitness == 32 ? 0xFFFF_FFFF : 0xFFFF;
        int i = 0;
        for (; i < n; i++)
        {
            ref DecodedOp op = ref ops[i];
            _insnStart = Rip;
            TraceHook?.Invoke(this);
            _inBlock = (uint)i;
            Rip = (Rip + op.Length) & mask;
            op.Exec(this, ref op);
            if (_exitBlock)
            {
                if (!Faulted) i++;
                break;
            }
        }
        _inBlock = 0;
        InstructionCount += (ulong)i;
        if (!single && _shadowRequest != 0 && !Faulted)
        {
            // STI/MOV SS end the block (they set _exitBlock), so the request is the last instruction's.
            _shadow = _shadowRequest;
            _shadowRequest = 0;
        }
    }

    /// <summary>Drops decoded code of a written page (called by memory for code-page writes).</summary>
    private void OnCodeWritten(ulong page)
    {
        _blocks.InvalidatePage(page);
        _exitBlock = true;
    }

    /// <summary>Forgets all decoded code (tests, state restore).</summary>
    public void InvalidateDecodedCode() => _blocks.Clear();

    /// <summary>Iced disassembly of the instruction at linear <paramref name="rip"/>, with its bytes.</summary>
    public string DescribeInstructionAt(ulong rip)
    {
        var bytes = new byte[15];
        int got = 0;
        ulong lin = Is64 ? rip : (uint)(Seg[SegReg.CS].Base + rip);
        for (; got < bytes.Length; got++)
        {
            long pa = DebugTranslate(lin + (ulong)got);
            if (pa < 0 || !Memory.Read((ulong)pa, bytes.AsSpan(got, 1))) break;
        }
        if (got == 0) return "(instruction bytes not readable)";
        var decoder = Iced.Intel.Decoder.Create(Bitness, new Iced.Intel.ByteArrayCodeReader(bytes, 0, got), rip);
        decoder.Decode(out var insn);
        var formatter = new Iced.Intel.NasmFormatter();
        var output = new Iced.Intel.StringOutput();
        formatter.Format(insn, output);
        string hex = Convert.ToHexString(bytes, 0, Math.Max(1, Math.Min(insn.Length, got))).ToLowerInvariant();
        return $"{hex}  {output.ToStringAndReset()}";
    }
}

public sealed partial class Cpu
{
    /// <summary>RIP of the instruction being executed (faults restart here).</summary>
    internal ulong InstructionStart => _insnStart;

    /// <summary>RIP of the instruction being executed, for host-side checkers that name the writer of a store.</summary>
    public ulong CurrentInstructionAddress => _insnStart;

    /// <summary>
    /// Called with the physical address of each newly decoded block, before its first instruction runs (registers are
    /// as at that instruction). Code just copied into place, such as the next kernel after a kexec, always starts a
    /// newly decoded block, so the KHO oracle finds the jump here without a per-instruction hook.
    /// </summary>
    public Action<Cpu, ulong>? NewCodeObserver { get; set; }

    /// <summary>Called at each SYSCALL before it takes effect (registers and CPL are the caller's).</summary>
    public Action<Cpu>? SyscallObserver { get; set; }
}
