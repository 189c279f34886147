using Iced.Intel;
using KhoEmu.Cpu.State;
using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Cpu.Tests;

/// <summary>
/// Unmasked SIMD floating-point exceptions in guest programs, from the SDM (they cannot run natively without a signal
/// handler): #XM (vector 19) with CR4.OSXMMEXCPT, #UD without it (vol. 3, 6.15 interrupt 19); the destination,
/// EFLAGS or general register stays unchanged; an unmasked pre-computation exception (IE, DE, ZE) in any lane stops
/// before the computation so no post-computation flag (OE, UE, PE) of any lane is set, while an unmasked
/// post-computation exception sets every flag that occurred (vol. 1, 11.5.3).
/// </summary>
[TestFixture]
public sealed class SseFloatExceptionTests
{
    private const ulong XmHandler = TestRig.CodeBase + 0x8000, UdHandler = TestRig.CodeBase + 0x9000;
    private static ulong D(double x) => BitConverter.DoubleToUInt64Bits(x);

    private sealed record Outcome(int Vector, uint Mxcsr, Xmm Xmm0, ulong Rax, ulong Flags);

    /// <summary>Runs <paramref name="body"/> after LDMXCSR of <paramref name="mxcsr"/>; the handlers record the vector.</summary>
    private static Outcome Run(uint mxcsr, bool osxmmexcpt, Xmm xmm0, Xmm xmm1, Action<Assembler> body)
    {
        using var rig = new TestRig();
        rig.SetGate(State.Vector.XM, XmHandler);
        rig.SetGate(State.Vector.UD, UdHandler);
        rig.Load(a => { a.mov(r15, State.Vector.XM); a.stmxcsr(__dword_ptr[rbx + 8]); a.hlt(); }, XmHandler);
        rig.Load(a => { a.mov(r15, State.Vector.UD); a.stmxcsr(__dword_ptr[rbx + 8]); a.hlt(); }, UdHandler);
        ulong cr4 = rig.Cpu.Cr4Value & ~ControlBits.Cr4OSXMMEXCPT;
        rig.Cpu.SetControlRegisters(rig.Cpu.Cr0Value, rig.Cpu.Cr3Value, cr4 | (osxmmexcpt ? ControlBits.Cr4OSXMMEXCPT : 0), rig.Cpu.EferValue);
        rig.W64(TestRig.DataBase, mxcsr);
        rig.Cpu.SetXmm(0, xmm0);
        rig.Cpu.SetXmm(1, xmm1);
        rig.Cpu.SetGpr(15, 0xFFFF);
        rig.Cpu.SetGpr(0, 0x1234_5678_9ABC_DEF0);
        rig.Load(a =>
        {
            a.mov(rbx, TestRig.DataBase);
            a.ldmxcsr(__dword_ptr[rbx]);
            a.mov(rdx, 0x202); a.push(rdx); a.popfq();
            body(a);
            a.pushfq(); a.pop(rdx);
            a.stmxcsr(__dword_ptr[rbx + 8]);
            a.hlt();
        });
        rig.Cpu.Run(20);
        return new Outcome((int)rig.Cpu.GetGpr(15), (uint)rig.R64(TestRig.DataBase + 8), rig.Cpu.GetXmm(0), rig.Cpu.GetGpr(0), rig.Cpu.GetGpr(2));
    }

    [TestCase(true, State.Vector.XM)]
    [TestCase(false, State.Vector.UD)]
    public void UnmaskedOverflowFaultsAndKeepsTheDestination(bool osxmmexcpt, int vector)
    {
        // MAX * 3 needs 55 significant bits: it overflows and is inexact.
        var before = new Xmm(D(double.MaxValue), D(1.0));
        var o = Run(0x1F80 & ~0x400u, osxmmexcpt, before, new Xmm(D(3.0), D(1.0)), a => a.mulpd(xmm0, xmm1));
        Assert.That(o.Vector, Is.EqualTo(vector));
        Assert.That(o.Xmm0, Is.EqualTo(before));
        Assert.That(o.Mxcsr & 0x3F, Is.EqualTo(0x28u), "OE and PE (the overflowed sum is inexact)");
    }

    [Test]
    public void MaskedOverflowGivesInfinity()
    {
        var o = Run(0x1F80, true, new Xmm(D(double.MaxValue), D(1.0)), new Xmm(D(double.MaxValue), D(1.0)), a => a.addpd(xmm0, xmm1));
        // MAX + MAX = (2 - 2^-52) * 2^1024 is exact with an unbounded exponent, yet masked overflow also sets PE.
        Assert.That(o.Vector, Is.EqualTo(0xFFFF), "no fault");
        Assert.That(o.Xmm0, Is.EqualTo(new Xmm(D(double.PositiveInfinity), D(2.0))));
        Assert.That(o.Mxcsr & 0x3F, Is.EqualTo(0x28u));
    }

    [Test]
    public void UnmaskedPreComputationExceptionSetsNoPostComputationFlag()
    {
        // Lane 0 divides by zero (ZE unmasked), lane 1 is 1/3 (inexact): the computation never happens, so no PE.
        var before = new Xmm(D(1.0), D(1.0));
        var o = Run(0x1F80 & ~0x200u, true, before, new Xmm(0, D(3.0)), a => a.divpd(xmm0, xmm1));
        Assert.That(o.Vector, Is.EqualTo(State.Vector.XM));
        Assert.That(o.Xmm0, Is.EqualTo(before));
        Assert.That(o.Mxcsr & 0x3F, Is.EqualTo(0x04u));
        var masked = Run(0x1F80, true, before, new Xmm(0, D(3.0)), a => a.divpd(xmm0, xmm1));
        Assert.That(masked.Xmm0, Is.EqualTo(new Xmm(D(double.PositiveInfinity), D(1.0 / 3.0))));
        Assert.That(masked.Mxcsr & 0x3F, Is.EqualTo(0x24u), "masked: ZE from lane 0 and PE from lane 1");
    }

    [Test]
    public void UnmaskedUnderflowFaultsEvenWhenExact()
    {
        // 2^-1022 * 0.5 is an exact denormal: masked it signals nothing, unmasked it is tiny and faults (11.5.2.5).
        var tiny = new Xmm(0x0010_0000_0000_0000, 0);
        var masked = Run(0x1F80, true, tiny, new Xmm(D(0.5), 0), a => a.mulsd(xmm0, xmm1));
        Assert.That(masked.Xmm0.Lo, Is.EqualTo(0x0008_0000_0000_0000UL));
        Assert.That(masked.Mxcsr & 0x3F, Is.Zero);
        var o = Run(0x1F80 & ~0x800u, true, tiny, new Xmm(D(0.5), 0), a => a.mulsd(xmm0, xmm1));
        Assert.That(o.Vector, Is.EqualTo(State.Vector.XM));
        Assert.That(o.Xmm0, Is.EqualTo(tiny));
        Assert.That(o.Mxcsr & 0x3F, Is.EqualTo(0x10u));
    }

    [Test]
    public void UnmaskedPrecisionFaultsOnAnInexactSingle()
    {
        var before = new Xmm(BitConverter.SingleToUInt32Bits(1f), 0);
        var o = Run(0x1F80 & ~0x1000u, true, before, new Xmm(BitConverter.SingleToUInt32Bits(3f), 0), a => a.divss(xmm0, xmm1));
        Assert.That(o.Vector, Is.EqualTo(State.Vector.XM));
        Assert.That(o.Xmm0, Is.EqualTo(before));
        Assert.That(o.Mxcsr & 0x3F, Is.EqualTo(0x20u));
    }

    [Test]
    public void ComisdWithAQuietNaNAndInvalidUnmaskedKeepsEflags()
    {
        var nan = new Xmm(0x7FF8_0000_0000_0000, 0);
        var o = Run(0x1F80 & ~0x80u, true, new Xmm(D(1.0), 0), nan, a => { a.comisd(xmm0, xmm1); a.mov(r14, 1); });
        Assert.That(o.Vector, Is.EqualTo(State.Vector.XM));
        Assert.That(o.Mxcsr & 0x3F, Is.EqualTo(0x01u));
        var u = Run(0x1F80 & ~0x80u, true, new Xmm(D(1.0), 0), nan, a => a.ucomisd(xmm0, xmm1));
        Assert.That(u.Vector, Is.EqualTo(0xFFFF), "UCOMISD signals only on an SNaN");
        Assert.That(u.Flags & 0x45, Is.EqualTo(0x45UL), "unordered: ZF PF CF");
    }

    [Test]
    public void ConversionOutOfRangeWithInvalidUnmaskedKeepsTheRegister()
    {
        var o = Run(0x1F80 & ~0x80u, true, default, new Xmm(D(3e9), 0), a => a.cvttsd2si(eax, xmm1));
        Assert.That(o.Vector, Is.EqualTo(State.Vector.XM));
        Assert.That(o.Rax, Is.EqualTo(0x1234_5678_9ABC_DEF0UL));
        var masked = Run(0x1F80, true, default, new Xmm(D(3e9), 0), a => a.cvttsd2si(eax, xmm1));
        Assert.That(masked.Rax, Is.EqualTo(0x8000_0000UL), "the integer indefinite");
        Assert.That(masked.Mxcsr & 0x3F, Is.EqualTo(0x01u));
    }

    [Test]
    public void LdmxcsrWithReservedBitsRaisesGp()
    {
        using var rig = new TestRig();
        const ulong handler = TestRig.CodeBase + 0x8000;
        rig.SetGate(State.Vector.GP, handler);
        rig.Load(a => { a.mov(r15, State.Vector.GP); a.hlt(); }, handler);
        rig.W64(TestRig.DataBase, 0x1_1F80);
        rig.Load(a => { a.mov(rbx, TestRig.DataBase); a.ldmxcsr(__dword_ptr[rbx]); a.hlt(); });
        rig.Cpu.Run(10);
        Assert.That(rig.Cpu.GetGpr(15), Is.EqualTo((ulong)State.Vector.GP));
    }

    [Test]
    public void FxrstorWithReservedMxcsrBitsRaisesGpAndAdvertisesTheMask()
    {
        using var rig = new TestRig();
        const ulong handler = TestRig.CodeBase + 0x8000, area = TestRig.DataBase + 0x200;
        rig.SetGate(State.Vector.GP, handler);
        rig.Load(a => { a.mov(r15, State.Vector.GP); a.hlt(); }, handler);
        rig.Cpu.SetGpr(15, 0);
        rig.Load(a => { a.mov(rbx, area); a.fxsave64(__[rbx]); a.hlt(); });
        rig.Cpu.Run(10);
        Assert.That(rig.R64(area + 24) >> 32, Is.EqualTo(0xFFFFUL), "MXCSR_MASK: all 16 low bits, DAZ included");
        Assert.That(rig.Cpu.GetGpr(15), Is.Zero);
        // Bit 17 set in the image's MXCSR: the restore faults.
        using var rig2 = new TestRig();
        rig2.SetGate(State.Vector.GP, handler);
        rig2.Load(a => { a.mov(r15, State.Vector.GP); a.hlt(); }, handler);
        rig2.W64(area + 24, 0x0000_FFFF_0002_1F80);
        rig2.Load(a => { a.mov(rbx, area); a.fxrstor64(__[rbx]); a.hlt(); });
        rig2.Cpu.Run(10);
        Assert.That(rig2.Cpu.GetGpr(15), Is.EqualTo((ulong)State.Vector.GP));
    }
}
