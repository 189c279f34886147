using KhoEmu.Cpu.State;
using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Cpu.Tests;

/// <summary>XCR0, CPUID leaf 0Dh and the XSAVE area (Intel SDM vol. 1, chapter 13) on the max model.</summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class XsaveTests
{
    private const ulong Area = TestRig.DataBase + 0x1000; // 64-byte aligned

    private static FaultProbe Probe()
    {
        var p = new FaultProbe(CpuModels.Max);
        p.SetCr4(ControlBits.Cr4OSXSAVE | ControlBits.Cr4PKE);
        return p;
    }

    private static (uint A, uint B, uint C, uint D) Cpuid(FaultProbe p, uint leaf, uint sub)
    {
        Assert.That(p.Run(a => { a.mov(eax, leaf); a.mov(ecx, sub); a.cpuid(); }), Is.EqualTo(FaultProbe.None));
        var c = p.Cpu;
        return ((uint)c.GetGpr(Cpu.RAX), (uint)c.GetGpr(Cpu.RBX), (uint)c.GetGpr(Cpu.RCX), (uint)c.GetGpr(Cpu.RDX));
    }

    private static void Xsetbv(FaultProbe p, ulong v) =>
        Assert.That(p.Run(a => { a.xor(ecx, ecx); a.mov(eax, (uint)v); a.mov(edx, (uint)(v >> 32)); a.xsetbv(); }), Is.EqualTo(FaultProbe.None));

    [Test]
    public void Leaf0DhDescribesTheLayoutForTheCurrentXcr0()
    {
        using var p = Probe();
        Assert.That(Cpuid(p, 0xD, 0), Is.EqualTo((0x203u, 576u, 2696u, 0u)), "x87|SSE|PKRU; XCR0 = 1 after reset: 576 bytes");
        Assert.That(Cpuid(p, 0xD, 1), Is.EqualTo((7u, 576u, 0u, 0u)), "XSAVEOPT, XSAVEC, XGETBV1; compacted size");
        Assert.That(Cpuid(p, 0xD, 9), Is.EqualTo((8u, 2688u, 0u, 0u)), "PKRU: 8 bytes at 2688, user, not aligned");
        Assert.That(Cpuid(p, 0xD, 2), Is.EqualTo((0u, 0u, 0u, 0u)), "no AVX state: AVX is not implemented");
        Xsetbv(p, 0x203);
        Assert.That(Cpuid(p, 0xD, 0).B, Is.EqualTo(2696u));
        Assert.That(Cpuid(p, 0xD, 1).B, Is.EqualTo(584u));
        Assert.That(Cpuid(p, 1, 0).C & (1u << 27), Is.Not.Zero, "OSXSAVE reflects CR4.OSXSAVE");
        Assert.That(Cpuid(p, 7, 0).C & (1u << 4), Is.Not.Zero, "OSPKE reflects CR4.PKE");
        using var d = new FaultProbe(CpuModels.Denverton);
        Assert.That(Cpuid(d, 0xD, 0), Is.EqualTo((0u, 0u, 0u, 0u)), "no XSAVE on Denverton");
        Assert.That(Cpuid(d, 1, 0).C & (1u << 27 | 1u << 26), Is.Zero);
    }

    [Test]
    public void XsetbvChecksTheNewValue()
    {
        using var p = Probe();
        int Set(uint value, uint index) => p.Run(a => { a.mov(ecx, index); a.mov(eax, value); a.xor(edx, edx); a.xsetbv(); });
        Assert.That(Set(2, 0), Is.EqualTo(Vector.GP), "x87 bit clear");
        Assert.That(Set(7, 0), Is.EqualTo(Vector.GP), "AVX is not supported");
        Assert.That(Set(3, 1), Is.EqualTo(Vector.GP), "ECX other than 0");
        Assert.That(Set(0x203, 0), Is.EqualTo(FaultProbe.None));
        Assert.That(p.Cpu.Xcr0Value, Is.EqualTo(0x203UL));
        Assert.That(p.Run(a => { a.xor(ecx, ecx); a.xgetbv(); }), Is.EqualTo(FaultProbe.None));
        Assert.That(p.Cpu.GetGpr(Cpu.RAX), Is.EqualTo(0x203UL));
    }

    /// <summary>Loads a recognisable x87/SSE/PKRU state.</summary>
    private static void LoadState(Iced.Intel.Assembler a)
    {
        a.fninit(); a.fld1(); a.fldpi();
        a.mov(rax, 0x1111_2222_3333_4444); a.movq(xmm0, rax);
        a.mov(rax, 0x5555_6666_7777_8888); a.movq(xmm15, rax);
        a.push(0x1F00); a.ldmxcsr(__dword_ptr[rsp]); a.pop(rax); // all exceptions masked except PM, RC nearest
        a.xor(ecx, ecx); a.xor(edx, edx); a.mov(eax, 0x0000_000C); a.wrpkru();
    }

    [Test]
    public void XsaveStoresTheStandardFormatAndXrstorLoadsIt()
    {
        using var p = Probe();
        Xsetbv(p, 0x203);
        for (ulong i = 0; i < 2696; i += 8) p.Rig.W64(Area + i, 0xA5A5_A5A5_A5A5_A5A5);
        p.Rig.W64(Area + 512, 0); p.Rig.W64(Area + 520, 0); p.Rig.W64(Area + 528, 0);
        Assert.That(p.Run(a => { LoadState(a); a.mov(eax, -1); a.mov(edx, -1); a.xsave64(__[Area]); }), Is.EqualTo(FaultProbe.None), p.Cpu.Diagnostic);
        var m = p.Rig.Memory;
        Assert.That(m.ReadPhys(Area, 2), Is.EqualTo(0x037F), "FCW");
        Assert.That(m.ReadPhys(Area + 4, 1), Is.EqualTo(0xC0), "abridged FTW: ST0, ST1 (physical R7, R6) valid");
        Assert.That(m.ReadPhys(Area + 24, 4), Is.EqualTo(0x1F00), "MXCSR");
        Assert.That(m.ReadPhys(Area + 28, 4), Is.EqualTo(0xFFFF), "MXCSR_MASK");
        Assert.That(p.Rig.R64(Area + 160), Is.EqualTo(0x1111_2222_3333_4444UL), "XMM0");
        Assert.That(p.Rig.R64(Area + 160 + 15 * 16), Is.EqualTo(0x5555_6666_7777_8888UL), "XMM15");
        Assert.That(p.Rig.R64(Area + 464), Is.EqualTo(0xA5A5_A5A5_A5A5_A5A5UL), "bytes 511:464 are not written");
        Assert.That(p.Rig.R64(Area + 512), Is.EqualTo(0x203UL), "XSTATE_BV = XINUSE");
        Assert.That(p.Rig.R64(Area + 520), Is.Zero, "XCOMP_BV not written");
        Assert.That(m.ReadPhys(Area + 2688, 4), Is.EqualTo(0xC), "PKRU at 2688");
        Assert.That(p.Rig.R64(Area + 576), Is.EqualTo(0xA5A5_A5A5_A5A5_A5A5UL), "no component between 576 and 2688");

        // Clobber everything, then XRSTOR brings it back.
        Assert.That(p.Run(a =>
        {
            a.fninit(); a.pxor(xmm0, xmm0); a.pxor(xmm15, xmm15); a.xor(ecx, ecx); a.xor(edx, edx); a.xor(eax, eax); a.wrpkru();
            a.mov(eax, -1); a.mov(edx, -1); a.xrstor64(__[Area]);
        }), Is.EqualTo(FaultProbe.None));
        var c = p.Cpu;
        Assert.That(c.GetXmm(0).Lo, Is.EqualTo(0x1111_2222_3333_4444UL));
        Assert.That(c.GetXmm(15).Lo, Is.EqualTo(0x5555_6666_7777_8888UL));
        Assert.That(c.PkruValue, Is.EqualTo(0xCu));
        var x87 = c.X87;
        Assert.That(x87.St(0).SignExponent, Is.EqualTo(0x4000), "ST0 = pi");
        Assert.That(x87.St(1).SignExponent, Is.EqualTo(0x3FFF), "ST1 = 1");
        Assert.That(x87.TagWord, Is.EqualTo(0x0FFF), "R7, R6 valid after the restore, the rest empty");
    }

    [Test]
    public void XrstorPutsComponentsWithXstateBvClearInTheirInitialState()
    {
        using var p = Probe();
        Xsetbv(p, 0x203);
        p.Rig.W64(Area + 512, 0); p.Rig.W64(Area + 520, 0); p.Rig.W64(Area + 528, 0);
        p.Rig.Memory.WritePhys(Area + 24, 4, 0x1F80 | 0x6000); // RC toward zero: standard form loads MXCSR anyway
        Assert.That(p.Run(a => { LoadState(a); a.mov(eax, -1); a.mov(edx, -1); a.xrstor64(__[Area]); }), Is.EqualTo(FaultProbe.None));
        var c = p.Cpu;
        Assert.That(c.GetXmm(0).Lo | c.GetXmm(15).Lo, Is.Zero);
        Assert.That(c.PkruValue, Is.Zero);
        var x87 = c.X87;
        Assert.That(x87.ControlWord, Is.EqualTo(0x037F));
        Assert.That(x87.TagWord, Is.EqualTo(0xFFFF));
        Assert.That(x87.St(0).SignExponent, Is.Zero, "registers zero");
        Assert.That(p.Run(a => { a.push(0); a.stmxcsr(__dword_ptr[rsp]); a.pop(rax); }), Is.EqualTo(FaultProbe.None));
        Assert.That(c.GetGpr(Cpu.RAX), Is.EqualTo(0x7F80UL), "MXCSR from memory in the standard form");
    }

    [TestCase(0x4UL, 0UL, 0UL, TestName = "XRSTOR #GP: XSTATE_BV bit not in XCR0")]
    [TestCase(0UL, 1UL, 0UL, TestName = "XRSTOR #GP: standard form with XCOMP_BV not zero")]
    [TestCase(0UL, 0UL, 1UL, TestName = "XRSTOR #GP: standard form with header bytes 23:16 not zero")]
    [TestCase(0x3UL, 0x8000_0000_0000_0001UL, 0UL, TestName = "XRSTOR #GP: compacted with XSTATE_BV beyond XCOMP_BV")]
    [TestCase(0x1UL, 0x8000_0000_0000_0005UL, 0UL, TestName = "XRSTOR #GP: compacted with XCOMP_BV beyond XCR0")]
    public void XrstorRejectsABadHeader(ulong xstateBv, ulong xcompBv, ulong bytes16)
    {
        using var p = Probe();
        Xsetbv(p, 0x203);
        p.Rig.W64(Area + 512, xstateBv); p.Rig.W64(Area + 520, xcompBv); p.Rig.W64(Area + 528, bytes16);
        Assert.That(p.Run(a => { LoadState(a); a.mov(eax, -1); a.mov(edx, -1); a.xrstor64(__[Area]); }), Is.EqualTo(Vector.GP));
        Assert.That(p.Error, Is.Zero);
        Assert.That(p.Cpu.PkruValue, Is.EqualTo(0xCu), "nothing restored");
    }

    [Test]
    public void XrstorRejectsReservedMxcsrBits()
    {
        using var p = Probe();
        p.Rig.W64(Area + 512, 2); p.Rig.W64(Area + 520, 0); p.Rig.W64(Area + 528, 0);
        p.Rig.Memory.WritePhys(Area + 24, 4, 0x1_0000);
        Assert.That(p.Run(a => { a.mov(eax, 3); a.xor(edx, edx); a.xrstor64(__[Area]); }), Is.EqualTo(Vector.GP));
    }

    [Test]
    public void XsavecWritesTheCompactedFormatOfComponentsInUse()
    {
        using var p = Probe();
        Xsetbv(p, 0x203);
        for (ulong i = 0; i < 640; i += 8) p.Rig.W64(Area + i, 0xA5A5_A5A5_A5A5_A5A5);
        for (ulong i = 528; i < 576; i += 8) p.Rig.W64(Area + i, 0); // header bytes 63:16 must be zero for XRSTOR
        // x87 in use, SSE in its initial state (XMM zero, MXCSR 1F80H), PKRU in use.
        Assert.That(p.Run(a =>
        {
            a.fninit(); a.fld1();
            a.xor(ecx, ecx); a.xor(edx, edx); a.mov(eax, 0x30); a.wrpkru();
            a.mov(eax, -1); a.mov(edx, -1); a.xsavec64(__[Area]);
        }), Is.EqualTo(FaultProbe.None));
        Assert.That(p.Rig.R64(Area + 512), Is.EqualTo(0x201UL), "XSTATE_BV = RFBM AND XINUSE");
        Assert.That(p.Rig.R64(Area + 520), Is.EqualTo(0x8000_0000_0000_0203UL), "XCOMP_BV = RFBM | bit 63");
        Assert.That(p.Rig.Memory.ReadPhys(Area + 576, 4), Is.EqualTo(0x30), "PKRU first in the extended region");
        Assert.That(p.Rig.R64(Area + 160), Is.EqualTo(0xA5A5_A5A5_A5A5_A5A5UL), "SSE in init state: not written");
        Assert.That(p.Rig.Memory.ReadPhys(Area, 2), Is.EqualTo(0x037F));

        // The compacted form restores: SSE (XSTATE_BV[1] = 0) gets its initial state, MXCSR 1F80H included.
        Assert.That(p.Run(a =>
        {
            a.mov(rax, 0x1234); a.movq(xmm3, rax); a.push(0x1F00); a.ldmxcsr(__dword_ptr[rsp]); a.pop(rax);
            a.xor(ecx, ecx); a.xor(edx, edx); a.xor(eax, eax); a.wrpkru();
            a.mov(eax, -1); a.mov(edx, -1); a.xrstor64(__[Area]);
            a.push(0); a.stmxcsr(__dword_ptr[rsp]); a.pop(rbx);
        }), Is.EqualTo(FaultProbe.None));
        Assert.That(p.Cpu.PkruValue, Is.EqualTo(0x30u));
        Assert.That(p.Cpu.GetXmm(3).Lo, Is.Zero);
        Assert.That(p.Cpu.GetGpr(Cpu.RBX), Is.EqualTo(0x1F80UL));
    }

    [Test]
    public void XgetbvOneReportsXinuse()
    {
        using var p = Probe();
        Xsetbv(p, 0x203);
        Assert.That(p.Run(a => { a.fninit(); a.mov(ecx, 1); a.xgetbv(); }), Is.EqualTo(FaultProbe.None));
        ulong init = p.Cpu.GetGpr(Cpu.RAX);
        Assert.That(init & 0x200, Is.Zero, "PKRU 0 is its initial state");
        Assert.That(p.Run(a => { a.xor(ecx, ecx); a.xor(edx, edx); a.mov(eax, 4); a.wrpkru(); a.fld1(); a.mov(ecx, 1); a.xgetbv(); }), Is.EqualTo(FaultProbe.None));
        Assert.That(p.Cpu.GetGpr(Cpu.RAX) & 0x201, Is.EqualTo(0x201UL));
    }
}
