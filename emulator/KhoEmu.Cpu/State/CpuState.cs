using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using KhoEmu.Cpu.Flags;

namespace KhoEmu.Cpu.State;

/// <summary>
/// Everything architectural of one processor as one blittable value (docs/cpu.md, "CPU state"): what a
/// <see cref="Cpu"/> runs on and what a snapshot stores, as raw bytes. Caches derived from it (decoded blocks, the
/// TLB, the breakpoint masks DR7 implies, the 64-bit-mode flag) are not part of it. Fields go widest first so the
/// struct has no padding; the only padding is inside <see cref="X87State"/>, which <see cref="Canonical"/> zeroes.
/// Any change of this layout (a field added, moved or widened) bumps <see cref="Version"/>.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct CpuState : IEquatable<CpuState>
{
    /// <summary>The layout version a snapshot's CPU section is written with.</summary>
    public const ushort Version = 1;

    public GeneralRegisters Gpr;
    public ulong Rip;

    /// <summary>RFLAGS with the arithmetic bits as last materialized; while <see cref="LazyOp"/> is not
    /// <see cref="FlagOp.None"/> those six bits are stale and the lazy record below defines them (Flags/Cpu.Flags.cs).
    /// Saved as it is, not materialized, so a restored CPU goes on bit for bit.</summary>
    public ulong Rflags;
    public ulong LazyA, LazyB, LazyResult;

    /// <summary>Instructions retired since power-on and virtual nanoseconds spent halted: their sum is the CPU's
    /// virtual time and its TSC.</summary>
    public ulong InstructionCount, IdleTime;

    public ulong Cr0, Cr2, Cr3, Cr4, Cr8, Efer, Xcr0;
    public ulong GdtBase, IdtBase;

    /// <summary>Debug trap bits held over a MOV SS/POP SS, and data breakpoints hit by the current instruction
    /// (DR6 B0-B3 bits; zero between instructions).</summary>
    public ulong PendingDebugTrap, DataHits;

    /// <summary>FNV-1a hash of the CPU model's name (<see cref="ModelIdOf"/>): a state is only loaded on that model.</summary>
    public ulong ModelId;

    public DebugRegisters Dr;
    public SegmentRegisters Seg;
    public SegmentCache Ldtr, Tr;
    public XmmRegisters Xmm;
    public CpuMsrs Msrs;
    public Xoshiro256StarStar Rng;
    public X87State Fpu;

    public uint Mxcsr, Pkru, Pkrs;
    public int Cpl;
    public int LazySize;
    /// <summary>The interrupt shadow over the next instruction (0, <c>Cpu.ShadowSti</c>, <c>Cpu.ShadowMovSs</c>)
    /// and the one the current instruction asked for (zero between instructions).</summary>
    public int Shadow, ShadowRequest;
    public ushort GdtLimit, IdtLimit;
    public CpuMode Mode;
    internal FlagOp LazyOp;
    public bool LazyCarryIn;
    public bool Halted, WaitForSipi, NmiPending, NmiBlocked, TripleFault;
    /// <summary>The level the CPU drives on FERR# (the line's receiver keeps its own copy in its state).</summary>
    public bool FerrAsserted;
#pragma warning disable CS0169 // never read or written: they make the tail padding explicit (and zero)
    private readonly byte _reserved0, _reserved1, _reserved2, _reserved3, _reserved4, _reserved5, _reserved6;
#pragma warning restore CS0169

    /// <summary>The id <see cref="ModelId"/> holds for <paramref name="model"/>: FNV-1a (64-bit) of its name, stable
    /// across processes and builds.</summary>
    public static ulong ModelIdOf(CpuModel model)
    {
        ulong h = 0xCBF2_9CE4_8422_2325UL;
        foreach (char ch in model.Name)
        {
            h ^= ch;
            h *= 0x0100_0000_01B3UL;
        }
        return h;
    }

    /// <summary>This state with every padding byte zero, so equal states have equal bytes.</summary>
    public readonly CpuState Canonical()
    {
        var s = this;
        var f = Fpu;
        ref byte fpu = ref Unsafe.As<X87State, byte>(ref s.Fpu);
        Unsafe.InitBlockUnaligned(ref fpu, 0, (uint)Unsafe.SizeOf<X87State>());
        for (int i = 0; i < 8; i++)
        {
            // Field stores write only the field's bytes: the six padding bytes of each Float80 stay zero.
            ref byte r = ref Unsafe.As<X87.Float80, byte>(ref s.Fpu.Registers[i]);
            Unsafe.WriteUnaligned(ref r, f.Registers[i].Significand);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref r, 8), f.Registers[i].SignExponent);
        }
        s.Fpu.ControlWord = f.ControlWord;
        s.Fpu.StatusWord = f.StatusWord;
        s.Fpu.TagWord = f.TagWord;
        s.Fpu.LastInstructionPointer = f.LastInstructionPointer;
        s.Fpu.LastInstructionSelector = f.LastInstructionSelector;
        s.Fpu.LastDataPointer = f.LastDataPointer;
        s.Fpu.LastDataSelector = f.LastDataSelector;
        s.Fpu.LastOpcode = f.LastOpcode;
        return s;
    }

    /// <summary>The state's bytes as a snapshot stores them (padding zeroed).</summary>
    public readonly byte[] ToBytes()
    {
        var s = Canonical();
        return MemoryMarshal.AsBytes(new ReadOnlySpan<CpuState>(ref s)).ToArray();
    }

    public readonly bool Equals(CpuState other)
    {
        var a = Canonical();
        var b = other.Canonical();
        return MemoryMarshal.AsBytes(new ReadOnlySpan<CpuState>(ref a))
            .SequenceEqual(MemoryMarshal.AsBytes(new ReadOnlySpan<CpuState>(ref b)));
    }

    public override readonly bool Equals(object? obj) => obj is CpuState s && Equals(s);
    public override readonly int GetHashCode() => HashCode.Combine(Rip, InstructionCount, Gpr[0], Cr3);
    public static bool operator ==(CpuState a, CpuState b) => a.Equals(b);
    public static bool operator !=(CpuState a, CpuState b) => !a.Equals(b);
}
