using System.Runtime.CompilerServices;
using KhoEmu.Core;
using KhoEmu.Core.State;
using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.State;
using KhoEmu.Memory;

namespace KhoEmu.Cpu;

/// <summary>
/// One x86-64 processor. Registers live in fields and arrays here; instruction semantics live in
/// <c>Semantics/</c>, one static class per family, called through the table in <c>Dispatch/</c>.
/// Guest faults are values: a handler calls <see cref="RaiseFault"/> and returns, and the run loop delivers the
/// exception through the IDT between instructions.
/// </summary>
public sealed partial class Cpu : IStateful<CpuState>
{
    public const int RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7;

    /// <summary>The architectural state (State/CpuState.cs). Everything below reaches it by ref, so a register is
    /// as cheap as a field of this class; the names are the ones the semantics use.</summary>
    private CpuState _s;

    internal ref GeneralRegisters Gpr => ref _s.Gpr; // 16 GPRs + a scratch slot for "no register"
    internal ref XmmRegisters XmmRegs => ref _s.Xmm;
    internal ref uint Mxcsr => ref _s.Mxcsr;
    internal ref ulong Rip => ref _s.Rip;
    internal ref SegmentRegisters Seg => ref _s.Seg;
    internal ref SegmentCache Ldtr => ref _s.Ldtr;
    internal ref SegmentCache Tr => ref _s.Tr;
    internal ref ulong GdtBase => ref _s.GdtBase;
    internal ref ulong IdtBase => ref _s.IdtBase;
    internal ref ushort GdtLimit => ref _s.GdtLimit;
    internal ref ushort IdtLimit => ref _s.IdtLimit;
    internal ref ulong Cr0 => ref _s.Cr0;
    internal ref ulong Cr2 => ref _s.Cr2;
    internal ref ulong Cr3 => ref _s.Cr3;
    internal ref ulong Cr4 => ref _s.Cr4;
    internal ref ulong Cr8 => ref _s.Cr8;
    internal ref ulong Efer => ref _s.Efer;
    internal ref DebugRegisters Dr => ref _s.Dr;
    internal ref int Cpl => ref _s.Cpl;
    internal ref CpuMode Mode => ref _s.Mode;

    internal readonly PhysicalMemory Memory;
    internal readonly PortBus Ports;

    /// <summary>RDRAND/RDSEED's seed when none is given: fixed, so runs are reproducible.</summary>
    public const ulong DefaultRngSeed = 0;

    public Cpu(PhysicalMemory memory, PortBus ports, VirtualClock clock, CpuModel? model = null, ulong rngSeed = DefaultRngSeed)
    {
        Memory = memory;
        Ports = ports;
        Clock = clock;
        Model = model ?? CpuModels.Default;
        _s.ModelId = CpuState.ModelIdOf(Model); // the rest of the state is set by Reset below
        _rng = new Xoshiro256StarStar(rngSeed);
        _blocks = new BlockCache(this);
        memory.CodeWritten += OnCodeWritten;
        memory.Watch.Armed += FlushTlb;
        memory.CodePageMarked += FlushTlbWrites;
        Reset();
    }

    public VirtualClock Clock { get; }

    /// <summary>The processor model CPUID reports (<c>-cpu NAME</c>).</summary>
    public CpuModel Model { get; }

    private ref Xoshiro256StarStar _rng => ref _s.Rng;

    /// <summary>The next RDRAND/RDSEED value. The generator is not reset with the CPU: a reboot continues the stream.</summary>
    internal ulong NextRandom() => _rng.Next();

    /// <summary>Where external interrupts come from (PIC/APIC); null means none are ever delivered.</summary>
    public IInterruptSink? Interrupts { get; set; }

    /// <summary>Called for RDMSR/WRMSR of MSRs the CPU does not own (the local APIC base, for instance).</summary>
    public IMsrHandler? ExtraMsrs { get; set; }

    /// <summary>Instructions retired since reset.</summary>
    public ulong InstructionCount { get => _s.InstructionCount; internal set => _s.InstructionCount = value; }

    /// <summary>Puts the processor in its power-on state (Intel SDM vol. 3, 9.1.1): real mode at F000:FFF0.</summary>
    public void Reset()
    {
        ((Span<ulong>)Gpr).Clear();
        ((Span<Xmm>)XmmRegs).Clear();
        Gpr[RDX] = Model.Signature; // EDX after reset holds the CPUID.1:EAX signature (SDM vol. 3, 9.1.4)
        Mxcsr = 0x1F80;
        Fpu = X87State.PowerOn;
        SetFerr(false);
        SetRflags(Rflags.Reserved1);
        Rip = 0xFFF0;
        for (int i = 0; i < 6; i++) Seg[i] = SegmentCache.RealMode(0);
        Seg[SegReg.CS] = new SegmentCache { Selector = 0xF000, Base = 0xFFFF_0000, Limit = 0xFFFF, Attributes = 0x9B };
        GdtBase = IdtBase = 0;
        GdtLimit = IdtLimit = 0xFFFF;
        Ldtr = new SegmentCache { Attributes = 0x82, Limit = 0xFFFF };
        Tr = new SegmentCache { Attributes = 0x8B, Limit = 0xFFFF };
        Cr0 = ControlBits.Cr0ET | ControlBits.Cr0CD | ControlBits.Cr0NW;
        Cr2 = Cr3 = Cr4 = Cr8 = Efer = 0;
        ResetDebugState();
        Cpl = 0;
        _msrs = default;
        _msrs.Pat = 0x0007040600070406;
        _msrs.ApicBase = ApicBaseAtReset;
        ResetModelMsrs();
        ResetExtendedState();
        _halted = false;
        _tripleFault = false;
        _deliveringVector = -1;
        _shadow = _shadowRequest = 0;
        _nmiBlocked = false;
        UpdateMode();
        FlushTlb();
    }

    /// <summary>True while the CPU waits in HLT for an interrupt.</summary>
    public bool Halted => _halted;

    // ---- general-purpose registers -------------------------------------------------------------------------------

    /// <summary>Reads a register operand. Index 0-15 is a GPR; 16-19 are AH, CH, DH, BH.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong GetReg(int r, int size)
    {
        if (size == 8) return Gpr[r];
        if (size == 4) return (uint)Gpr[r];
        if (size == 2) return (ushort)Gpr[r];
        return r < 16 ? (byte)Gpr[r] : (byte)(Gpr[r - 16] >> 8);
    }

    /// <summary>Writes a register operand with x86-64 merge rules: 32-bit writes zero the upper half.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void SetReg(int r, int size, ulong v)
    {
        if (size == 8) Gpr[r] = v;
        else if (size == 4) Gpr[r] = (uint)v;
        else if (size == 2) Gpr[r] = (Gpr[r] & ~0xFFFFUL) | (ushort)v;
        else if (r < 16) Gpr[r] = (Gpr[r] & ~0xFFUL) | (byte)v;
        else Gpr[r - 16] = (Gpr[r - 16] & ~0xFF00UL) | ((ulong)(byte)v << 8);
    }

    // ---- public state access (monitor, tests, boot loaders) -------------------------------------------------------

    public ulong GetGpr(int index) => Gpr[index];
    public void SetGpr(int index, ulong value) => Gpr[index] = value;
    public ulong InstructionPointer { get => Rip; set => Rip = value; }
    public ulong Cr0Value => Cr0;
    public ulong Cr2Value => Cr2;
    public ulong Cr3Value => Cr3;
    public ulong Cr4Value => Cr4;
    public ulong EferValue => Efer;
    public CpuMode CurrentMode => Mode;
    public int CurrentPrivilegeLevel => Cpl;
    public SegmentCache GetSegment(int seg) => Seg[seg];
    public Xmm GetXmm(int i) => XmmRegs[i];
    public void SetXmm(int i, Xmm value) => XmmRegs[i] = value;

    /// <summary>Loads a segment register's hidden part directly (boot loaders entering protected/long mode).</summary>
    public void LoadSegment(int seg, SegmentCache cache)
    {
        Seg[seg] = cache;
        if (seg == SegReg.CS) Cpl = Mode == CpuMode.Real16 ? 0 : cache.Dpl;
        if (seg == SegReg.SS && Mode != CpuMode.Real16) Cpl = cache.Dpl;
        UpdateMode();
    }

    /// <summary>Sets control registers together (boot loaders); flushes translations.</summary>
    public void SetControlRegisters(ulong cr0, ulong cr3, ulong cr4, ulong efer)
    {
        Cr0 = cr0;
        Cr3 = cr3;
        Cr4 = cr4;
        Efer = efer;
        UpdateMode();
        FlushTlb();
    }

    public void SetDescriptorTables(ulong gdtBase, ushort gdtLimit, ulong idtBase, ushort idtLimit)
    {
        GdtBase = gdtBase;
        GdtLimit = gdtLimit;
        IdtBase = idtBase;
        IdtLimit = idtLimit;
    }

    /// <summary>Recomputes the decode mode from CR0.PE, EFER.LMA and CS.L/D.</summary>
    internal void UpdateMode()
    {
        var cs = Seg[SegReg.CS];
        CpuMode m;
        if ((Cr0 & ControlBits.Cr0PE) == 0) m = CpuMode.Real16;
        else if ((Efer & Msr.EferLma) != 0)
            m = cs.Long ? CpuMode.Long64 : cs.Big ? CpuMode.Compat32 : CpuMode.Compat16;
        else m = cs.Big ? CpuMode.Protected32 : CpuMode.Protected16;
        if (m != Mode) _exitBlock = true;
        Mode = m;
        Is64 = m == CpuMode.Long64;
    }

    /// <summary>True in 64-bit mode: segment bases other than FS/GS are ignored.</summary>
    internal bool Is64;

    /// <summary>Bitness Iced decodes with in the current mode.</summary>
    internal int Bitness => Mode switch
    {
        CpuMode.Long64 => 64,
        CpuMode.Protected32 or CpuMode.Compat32 => 32,
        _ => 16,
    };
}

/// <summary>MSRs owned by another part of the machine.</summary>
public interface IMsrHandler
{
    bool TryRead(uint msr, out ulong value);
    bool TryWrite(uint msr, ulong value);
}
