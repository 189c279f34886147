using BenchmarkDotNet.Attributes;
using Iced.Intel;
using KhoEmu.Core;
using KhoEmu.Cpu.State;
using KhoEmu.Memory;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Bench;

/// <summary>
/// Guest instruction throughput: an integer loop, a memory-heavy loop, and the same integer loop with the decoded-block
/// cache defeated (code rewritten every iteration). Each benchmark runs <see cref="Instructions"/> guest instructions;
/// MIPS = Instructions / mean time.
/// </summary>
[MemoryDiagnoser]
public class CpuThroughput
{
    public const ulong Instructions = 10_000_000;
    private PhysicalMemory _mem = null!;
    private KhoEmu.Cpu.Cpu _cpu = null!;

    private void Setup(Action<Assembler> body)
    {
        _mem = new PhysicalMemory(64UL << 20);
        _cpu = new KhoEmu.Cpu.Cpu(_mem, new PortBus(), new VirtualClock());
        const ulong pml4 = 0x10_0000;
        _mem.WritePhys(pml4, 8, (pml4 + 0x1000) | 3);
        _mem.WritePhys(pml4 + 0x1000, 8, (pml4 + 0x2000) | 3);
        for (ulong i = 0; i < 512; i++) _mem.WritePhys(pml4 + 0x2000 + i * 8, 8, (i << 21) | 0x83);
        _cpu.SetControlRegisters(ControlBits.Cr0PE | ControlBits.Cr0PG, pml4, ControlBits.Cr4PAE | ControlBits.Cr4OSFXSR, Msr.EferLme | Msr.EferLma);
        _cpu.LoadSegment(SegReg.CS, SegmentCache.FromDescriptor(0x08, 0x00AF_9B00_0000_FFFF));
        var a = new Assembler(64);
        body(a);
        using var ms = new MemoryStream();
        a.Assemble(new StreamCodeWriter(ms), 0x40_0000);
        _mem.Write(0x40_0000, ms.ToArray());
        _cpu.SetGpr(4, 0x80_0000);
    }

    [GlobalSetup(Target = nameof(IntegerLoop))]
    public void SetupInteger() => Setup(a =>
    {
        var top = a.CreateLabel();
        a.xor(eax, eax);
        a.Label(ref top);
        a.add(rax, rcx);
        a.xor(rdx, rax);
        a.inc(rcx);
        a.cmp(rcx, rbx);
        a.jne(top);
    });

    [GlobalSetup(Target = nameof(MemoryLoop))]
    public void SetupMemory() => Setup(a =>
    {
        var top = a.CreateLabel();
        a.mov(rsi, 0x60_0000);
        a.Label(ref top);
        a.mov(rax, __qword_ptr[rsi + rcx * 8]);
        a.add(rax, 1);
        a.mov(__qword_ptr[rsi + rcx * 8], rax);
        a.inc(rcx);
        a.and(rcx, 0xFFFF);
        a.jmp(top);
    });

    [GlobalSetup(Target = nameof(NoDecodeCache))]
    public void SetupSmc() => Setup(a =>
    {
        var top = a.CreateLabel();
        a.Label(ref top);
        a.mov(__byte_ptr[0x40_0800], 0x90);  // a write into the code page drops its decoded blocks
        a.inc(rcx);
        a.jmp(top);
    });

    private void RunLoop()
    {
        _cpu.InstructionPointer = 0x40_0000;
        _cpu.SetGpr(3, ulong.MaxValue);
        _cpu.Run(Instructions);
    }

    [Benchmark(OperationsPerInvoke = (int)Instructions)] public void IntegerLoop() => RunLoop();
    [Benchmark(OperationsPerInvoke = (int)Instructions)] public void MemoryLoop() => RunLoop();
    [Benchmark(OperationsPerInvoke = (int)Instructions)] public void NoDecodeCache() => RunLoop();
}
