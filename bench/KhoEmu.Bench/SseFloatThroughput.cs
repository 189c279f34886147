using BenchmarkDotNet.Attributes;
using Iced.Intel;
using KhoEmu.Core;
using KhoEmu.Cpu.State;
using KhoEmu.Memory;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Bench;

/// <summary>
/// SSE floating-point throughput: a loop of ADDPD, MULPD, DIVSD, SQRTSD, MOVAPS, ADDPS, MULPS on ordinary values (inexact
/// results, all exceptions masked) with MXCSR round to nearest (the fast path) and with round up (every lane takes
/// the exact path). Each benchmark runs <see cref="Instructions"/> guest instructions.
/// </summary>
public class SseFloatThroughput
{
    public const ulong Instructions = 5_000_000;
    private PhysicalMemory _mem = null!;
    private KhoEmu.Cpu.Cpu _cpu = null!;

    private void Setup(uint mxcsr)
    {
        _mem = new PhysicalMemory(64UL << 20);
        _cpu = new KhoEmu.Cpu.Cpu(_mem, new PortBus(), new VirtualClock());
        const ulong pml4 = 0x10_0000;
        _mem.WritePhys(pml4, 8, (pml4 + 0x1000) | 3);
        _mem.WritePhys(pml4 + 0x1000, 8, (pml4 + 0x2000) | 3);
        for (ulong i = 0; i < 512; i++) _mem.WritePhys(pml4 + 0x2000 + i * 8, 8, (i << 21) | 0x83);
        _cpu.SetControlRegisters(ControlBits.Cr0PE | ControlBits.Cr0PG, pml4, ControlBits.Cr4PAE | ControlBits.Cr4OSFXSR, Msr.EferLme | Msr.EferLma);
        _cpu.LoadSegment(SegReg.CS, SegmentCache.FromDescriptor(0x08, 0x00AF_9B00_0000_FFFF));
        _mem.WritePhys(0x60_0000, 4, mxcsr);
        var a = new Assembler(64);
        var top = a.CreateLabel();
        a.mov(rsi, 0x60_0000);
        a.ldmxcsr(__dword_ptr[rsi]);
        a.Label(ref top);
        // xmm0..3 hold values near 1 (set below): the sums, products, quotients and roots stay near 1 and inexact.
        a.movapd(xmm4, xmm0);
        a.addpd(xmm4, xmm1);
        a.mulpd(xmm4, xmm2);
        a.divsd(xmm4, xmm3);
        a.sqrtsd(xmm5, xmm4);
        a.movaps(xmm6, xmm7);
        a.addps(xmm6, xmm8);
        a.mulps(xmm6, xmm9);
        a.jmp(top);
        using var ms = new MemoryStream();
        a.Assemble(new StreamCodeWriter(ms), 0x40_0000);
        _mem.Write(0x40_0000, ms.ToArray());
        _cpu.SetGpr(4, 0x80_0000);
        static ulong D(double x) => BitConverter.DoubleToUInt64Bits(x);
        _cpu.SetXmm(0, new Xmm(D(1.1), D(1.3)));
        _cpu.SetXmm(1, new Xmm(D(0.7), D(0.9)));
        _cpu.SetXmm(2, new Xmm(D(1.0 / 3), D(1.0 / 7)));
        _cpu.SetXmm(3, new Xmm(D(1.7), D(1.9)));
        static ulong F(float lo, float hi) => BitConverter.SingleToUInt32Bits(lo) | (ulong)BitConverter.SingleToUInt32Bits(hi) << 32;
        _cpu.SetXmm(7, new Xmm(F(1.1f, 1.2f), F(1.3f, 1.4f)));
        _cpu.SetXmm(8, new Xmm(F(0.3f, 0.7f), F(0.11f, 0.13f)));
        _cpu.SetXmm(9, new Xmm(F(1f / 3, 1f / 7), F(1.7f, 1.9f)));
        _cpu.InstructionPointer = 0x40_0000;
        _cpu.Run(2);
    }

    [GlobalSetup(Target = nameof(RoundToNearest))] public void SetupNearest() => Setup(0x1F80);
    [GlobalSetup(Target = nameof(RoundUp))] public void SetupUp() => Setup(0x5F80);

    private void RunLoop() => _cpu.Run(Instructions);

    [Benchmark(OperationsPerInvoke = (int)Instructions)] public void RoundToNearest() => RunLoop();
    [Benchmark(OperationsPerInvoke = (int)Instructions)] public void RoundUp() => RunLoop();
}
