using Iced.Intel;
using KhoEmu.Cpu.State;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Cpu.Tests;

/// <summary>
/// A <see cref="TestRig"/> whose #UD, #NM, #GP, #PF and #DB handlers record the vector in R15 and the error code (if
/// any) in R14, then write port F4h, which stops the run (<see cref="Cpu.RequestStop"/>; not HLT, which would leave the
/// CPU halted for the next program). <see cref="Run"/> executes a program ending in that write and reports which
/// exception, if any, it raised; the handler running is the proof that the machine kept going.
/// </summary>
public sealed class FaultProbe : IDisposable
{
    public const ulong HandlerBase = TestRig.CodeBase + 0x10000;
    public const int None = -1;

    public FaultProbe(CpuModel? model = null) : this(new TestRig(model: model)) { }

    public FaultProbe(TestRig rig)
    {
        Rig = rig;
        Rig.Ports.Register(StopPort, 1, new Stopper(rig.Cpu), "stop");
        int i = 0;
        foreach (int v in new[] { State.Vector.UD, State.Vector.NM, State.Vector.GP, State.Vector.PF, State.Vector.DB })
        {
            ulong at = HandlerBase + (ulong)i++ * 0x40;
            bool hasError = v is State.Vector.GP or State.Vector.PF;
            Rig.SetGate(v, at);
            Rig.Load(a => { if (hasError) a.pop(r14); a.mov(r15, v); a.@out(StopPort, al); }, at);
        }
    }

    public const byte StopPort = 0xF4;

    public TestRig Rig { get; }

    /// <summary>How the last <see cref="Run"/> ended (<see cref="StopReason.Requested"/> when the program or a handler
    /// reached its final port write).</summary>
    public StopReason LastStop { get; private set; }
    public Cpu Cpu => Rig.Cpu;

    /// <summary>The vector raised by the last <see cref="Run"/> (or <see cref="None"/>), and its error code.</summary>
    public int Raised { get; private set; }
    public ulong Error => Cpu.GetGpr(14);

    /// <summary>Runs <paramref name="program"/> (the stopping port write appended) at CPL 0; returns the vector it raised
    /// or <see cref="None"/>.</summary>
    public int Run(Action<Assembler> program, ulong limit = 10_000)
    {
        Cpu.SetGpr(15, unchecked((ulong)None));
        Cpu.SetGpr(14, 0);
        Rig.Load(a => { program(a); a.@out(StopPort, al); });
        LastStop = Cpu.Run(limit);
        if (LastStop == StopReason.Unsupported) throw new InvalidOperationException(Cpu.Diagnostic);
        Raised = (int)(long)Cpu.GetGpr(15);
        return Raised;
    }

    /// <summary>Sets CR4 bits directly (the rig starts with PAE, OSFXSR and OSXMMEXCPT).</summary>
    public void SetCr4(ulong bits) =>
        Cpu.SetControlRegisters(Cpu.Cr0Value, Cpu.Cr3Value, Cpu.Cr4Value | bits, Cpu.EferValue);

    /// <summary>A 64-bit TSS at 0x5000 with RSP0 for privilege changes from ring 3 (LTR run from a ring-0 stub).</summary>
    public static void SetRsp0(DescriptorRig r, ulong rsp0)
    {
        const ulong tss = 0x5000;
        r.Rig.W64(tss + 4, rsp0);
        r.SetDescriptor(DescriptorRig.FreeIndex, DescriptorRig.Descriptor(0x89, 0x67) | ((tss & 0xFFFFFF) << 16));
        r.SetDescriptor(DescriptorRig.FreeIndex + 1, 0);
        var cs = r.Cpu.GetSegment(SegReg.CS);
        var ss = r.Cpu.GetSegment(SegReg.SS);
        r.Cpu.LoadSegment(SegReg.CS, SegmentCache.FromDescriptor(0x08, 0x00AF_9B00_0000_FFFF));
        r.Cpu.LoadSegment(SegReg.SS, SegmentCache.FromDescriptor(0x10, 0x00CF_9300_0000_FFFF));
        r.Load(a => { a.mov(eax, DescriptorRig.FreeIndex * 8); a.ltr(ax); });
        if (r.Cpu.Run(2) != StopReason.InstructionLimit) throw new InvalidOperationException(r.Cpu.Diagnostic);
        r.Cpu.LoadSegment(SegReg.CS, cs);
        r.Cpu.LoadSegment(SegReg.SS, ss);
    }

    public void Dispose() => Rig.Dispose();

    private sealed class Stopper(Cpu cpu) : KhoEmu.Core.IPortDevice
    {
        public uint ReadPort(ushort offset, int size) => 0xFF;
        public void WritePort(ushort offset, int size, uint value) => cpu.RequestStop();
    }
}
