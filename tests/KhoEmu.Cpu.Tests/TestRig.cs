using Iced.Intel;
using KhoEmu.Core;
using KhoEmu.Cpu.State;
using KhoEmu.Memory;

namespace KhoEmu.Cpu.Tests;

/// <summary>
/// A bare CPU in 64-bit mode with the first 1 GiB identity-mapped (2 MiB pages), SSE enabled, code at
/// <see cref="CodeBase"/>, a data buffer at <see cref="DataBase"/> and a stack below <see cref="StackTop"/>.
/// </summary>
public sealed class TestRig : IDisposable
{
    public const ulong CodeBase = 0x40_0000, DataBase = 0x60_0000, StackTop = 0x80_0000, IdtBase = 0x1000;
    private const ulong Pml4 = 0x10_0000;

    public PhysicalMemory Memory { get; } = new(64UL << 20);
    public PortBus Ports { get; } = new();
    public VirtualClock Clock { get; } = new();
    public Cpu Cpu { get; }

    public TestRig(ulong rngSeed = Cpu.DefaultRngSeed, CpuModel? model = null)
    {
        Cpu = new Cpu(Memory, Ports, Clock, model, rngSeed);
        W64(Pml4, (Pml4 + 0x1000) | 3);
        W64(Pml4 + 0x1000, (Pml4 + 0x2000) | 3);
        for (ulong i = 0; i < 512; i++) W64(Pml4 + 0x2000 + i * 8, (i << 21) | 0x87);
        Cpu.SetControlRegisters(ControlBits.Cr0PE | ControlBits.Cr0PG | ControlBits.Cr0MP | ControlBits.Cr0ET, Pml4,
            ControlBits.Cr4PAE | ControlBits.Cr4OSFXSR | ControlBits.Cr4OSXMMEXCPT, Msr.EferLme | Msr.EferLma | Msr.EferNxe | Msr.EferSce);
        // GDT: null, 64-bit code 0x08, data 0x10.
        W64(0x500 + 8, 0x00AF_9B00_0000_FFFF);
        W64(0x500 + 16, 0x00CF_9300_0000_FFFF);
        Cpu.SetDescriptorTables(0x500, 23, IdtBase, 16 * 256 - 1);
        Cpu.LoadSegment(SegReg.CS, SegmentCache.FromDescriptor(0x08, 0x00AF_9B00_0000_FFFF));
        var data = SegmentCache.FromDescriptor(0x10, 0x00CF_9300_0000_FFFF);
        foreach (int s in new[] { SegReg.DS, SegReg.ES, SegReg.SS, SegReg.FS, SegReg.GS }) Cpu.LoadSegment(s, data);
        Cpu.SetGpr(Cpu.RSP, StackTop);
        Cpu.InstructionPointer = CodeBase;
    }

    public void W64(ulong addr, ulong v) => Memory.WritePhys(addr, 8, v);
    public ulong R64(ulong addr) => Memory.ReadPhys(addr, 8);

    /// <summary>Assembles 64-bit code with Iced at <see cref="CodeBase"/> and loads it.</summary>
    public void Load(Action<Assembler> build, ulong at = CodeBase)
    {
        var a = new Assembler(64);
        build(a);
        using var ms = new MemoryStream();
        a.Assemble(new StreamCodeWriter(ms), at);
        Memory.Write(at, ms.ToArray());
        Cpu.InstructionPointer = at;
    }

    /// <summary>Points IDT vector <paramref name="vector"/> at <paramref name="handler"/> (64-bit interrupt gate).</summary>
    public void SetGate(int vector, ulong handler, int dpl = 0, int ist = 0)
    {
        ulong lo = (handler & 0xFFFF) | (0x08UL << 16) | ((ulong)ist << 32) | ((0x8EUL | ((ulong)dpl << 5)) << 40)
            | ((handler >> 16) & 0xFFFF) << 48;
        W64(IdtBase + (ulong)vector * 16, lo);
        W64(IdtBase + (ulong)vector * 16 + 8, handler >> 32);
    }

    public void Dispose() => Memory.Dispose();
}
