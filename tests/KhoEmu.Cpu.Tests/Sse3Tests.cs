using KhoEmu.Cpu.State;
using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Cpu.Tests;

/// <summary>SSE3 on the max model (SDM vol. 2: HADDPD, HSUBPS, ADDSUBPD/PS, MOVSLDUP, MOVSHDUP, MOVDDUP).</summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class Sse3Tests
{
    private static ulong D(double v) => (ulong)BitConverter.DoubleToInt64Bits(v);
    private static ulong P(float lo, float hi) => (uint)BitConverter.SingleToInt32Bits(lo) | (ulong)(uint)BitConverter.SingleToInt32Bits(hi) << 32;

    private static Xmm Run(Action<Iced.Intel.Assembler> insn, Xmm dst, Xmm src)
    {
        using var rig = new TestRig(model: CpuModels.Max);
        rig.Cpu.SetXmm(0, dst);
        rig.Cpu.SetXmm(1, src);
        rig.Load(insn);
        Assert.That(rig.Cpu.Run(1), Is.EqualTo(StopReason.InstructionLimit), rig.Cpu.Diagnostic);
        return rig.Cpu.GetXmm(0);
    }

    [Test]
    public void HorizontalAndAlternatingArithmetic()
    {
        var d2 = new Xmm(D(1.5), D(2.25));
        var s2 = new Xmm(D(10), D(-4));
        Assert.That(Run(a => a.haddpd(xmm0, xmm1), d2, s2), Is.EqualTo(new Xmm(D(3.75), D(6))));
        Assert.That(Run(a => a.hsubpd(xmm0, xmm1), d2, s2), Is.EqualTo(new Xmm(D(-0.75), D(14))));
        Assert.That(Run(a => a.addsubpd(xmm0, xmm1), d2, s2), Is.EqualTo(new Xmm(D(-8.5), D(-1.75))));
        var d4 = new Xmm(P(1, 2), P(3, 4));
        var s4 = new Xmm(P(10, 20), P(30, 40));
        Assert.That(Run(a => a.haddps(xmm0, xmm1), d4, s4), Is.EqualTo(new Xmm(P(3, 7), P(30, 70))));
        Assert.That(Run(a => a.hsubps(xmm0, xmm1), d4, s4), Is.EqualTo(new Xmm(P(-1, -1), P(-10, -10))));
        Assert.That(Run(a => a.addsubps(xmm0, xmm1), d4, s4), Is.EqualTo(new Xmm(P(-9, 22), P(-27, 44))));
    }

    [Test]
    public void DuplicatingMoves()
    {
        var s = new Xmm(0x2222_2222_1111_1111, 0x4444_4444_3333_3333);
        Assert.That(Run(a => a.movsldup(xmm0, xmm1), default, s), Is.EqualTo(new Xmm(0x1111_1111_1111_1111, 0x3333_3333_3333_3333)));
        Assert.That(Run(a => a.movshdup(xmm0, xmm1), default, s), Is.EqualTo(new Xmm(0x2222_2222_2222_2222, 0x4444_4444_4444_4444)));
        Assert.That(Run(a => a.movddup(xmm0, xmm1), default, s), Is.EqualTo(new Xmm(0x2222_2222_1111_1111, 0x2222_2222_1111_1111)));
    }
}
