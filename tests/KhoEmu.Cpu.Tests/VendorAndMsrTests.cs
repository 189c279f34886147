using Iced.Intel;
using KhoEmu.Cpu.State;
using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;
using static KhoEmu.Cpu.Tests.CpuModelTests;

namespace KhoEmu.Cpu.Tests;

/// <summary>
/// Behaviour that follows the CPUID vendor (SYSCALL outside 64-bit mode: Intel SDM vol. 2B SYSCALL, AMD APM vol. 3
/// SYSCALL), the AMD EPYC model and its performance-counter MSRs, canonical checks on base-address MSRs and on
/// LGDT/LIDT (SDM vol. 4 2.1, vol. 2 LGDT/WRMSR/WRFSBASE) and CPUID.1:EDX.APIC following IA32_APIC_BASE.EN.
/// </summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class VendorAndMsrTests
{
    private const ulong SyscallTarget = TestRig.CodeBase + 0xA00, LongTarget = TestRig.CodeBase + 0xB00;

    private static DescriptorRig CompatSyscallRig(CpuModel model)
    {
        var r = new DescriptorRig(32, 3, model: model);
        r.Rig.SetGate(Vector.UD, GpHandler);
        r.Rig.Load(a => { a.mov(r15, GpMarker); a.hlt(); }, GpHandler);
        r.Rig.Load(a => { a.mov(r15, 0xC5); a.hlt(); }, SyscallTarget);
        r.Rig.Load(a => { a.mov(r15, 0x64); a.hlt(); }, LongTarget);
        r.RunRing0(a =>
        {
            a.mov(ecx, Msr.Star); a.mov(eax, 0); a.mov(edx, 0x0013_0008); a.wrmsr();
            a.mov(ecx, Msr.Cstar); a.mov(eax, (uint)SyscallTarget); a.xor(edx, edx); a.wrmsr();
            a.mov(ecx, Msr.Lstar); a.mov(eax, (uint)LongTarget); a.wrmsr();
        }, 11);
        LegacyInstructionTests.SetRsp0(r, 0x70_0000);
        r.Load(a => { a.nop(); a.syscall(); a.hlt(); });
        return r;
    }

    [Test]
    public void SyscallInCompatibilityModeIsInvalidOnIntel()
    {
        using var r = CompatSyscallRig(CpuModels.Denverton);
        r.Cpu.Run(20);
        Assert.That(r.Cpu.GetGpr(15), Is.EqualTo(GpMarker), "#UD: Intel allows SYSCALL only in 64-bit mode");
    }

    [TestCase("EPYC")]
    [TestCase("qemu64")]
    public void SyscallInCompatibilityModeEntersCstarOnAmd(string model)
    {
        using var r = CompatSyscallRig(CpuModels.Find(model)!);
        r.Cpu.Run(3);
        Assert.That(r.Cpu.GetGpr(15), Is.EqualTo(0xC5), r.Cpu.Diagnostic);
        Assert.That(r.Cpu.GetGpr(Cpu.RCX), Is.EqualTo(TestRig.CodeBase + 3), "RCX = the next EIP");
        Assert.That(r.Cpu.GetSegment(SegReg.CS).Selector, Is.EqualTo(0x08), "CS = STAR[47:32]");
        Assert.That(r.Cpu.CurrentMode, Is.EqualTo(CpuMode.Long64), "the SYSCALL CS is a 64-bit code segment");
        Assert.That(r.Cpu.CurrentPrivilegeLevel, Is.Zero);
    }

    [Test]
    public void EpycIsQemusAmdZenModel()
    {
        var epyc = CpuModels.Find("EPYC");
        Assert.That(epyc, Is.Not.Null);
        Assert.That(CpuModels.Find("EPYC-v1"), Is.SameAs(epyc));
        using var rig = Rig(epyc);
        var l0 = Cpuid(rig, 0);
        Assert.That(Text(l0.B, l0.D, l0.C), Is.EqualTo("AuthenticAMD"));
        Assert.That(l0.A, Is.EqualTo(0xDu));
        Assert.That(CpuModelTests.Decode(Cpuid(rig, 1).A), Is.EqualTo((23, 1, 2)));
        Assert.That(Cpuid(rig, 0x8000_0000).A, Is.EqualTo(0x8000_001Eu));
        var brand = new[] { 0x8000_0002u, 0x8000_0003u, 0x8000_0004u }.Select(l => Cpuid(rig, l)).SelectMany(x => new[] { x.A, x.B, x.C, x.D });
        Assert.That(Text(brand.ToArray()), Is.EqualTo("AMD EPYC Processor"));
        var l1 = Cpuid(rig, 1);
        Assert.That(l1.C & (1u << 30 | 1u << 23), Is.EqualTo(1u << 30 | 1u << 23), "RDRAND, POPCNT");
        Assert.That(Cpuid(rig, 7).B & (1u << 18 | 1u << 0), Is.EqualTo(1u << 18 | 1u << 0), "RDSEED, FSGSBASE");
        var e1 = Cpuid(rig, 0x8000_0001);
        Assert.That(e1.D & (1u << 26 | 1u << 27), Is.EqualTo(1u << 26 | 1u << 27), "1 GiB pages, RDTSCP");
        Assert.That(e1.C & (1u << 23), Is.Zero, "no PerfCtrExtCore: QEMU's EPYC does not list it");
    }

    [TestCase("EPYC")]
    [TestCase("qemu64")]
    public void AmdPerformanceCounterMsrsAreAcceptedAsQemuTcgDoes(string model)
    {
        using var rig = Rig(CpuModels.Find(model));
        for (uint msr = 0xC001_0000; msr <= 0xC001_0007; msr++)
        {
            Assert.That(Wrmsr(rig, msr, 0x43_0076), Is.True, $"WRMSR {msr:x}");
            Assert.That(Rdmsr(rig, msr), Is.EqualTo(0UL), $"RDMSR {msr:x}: no counter counts, reads 0 as on QEMU TCG");
        }
        Assert.That(Rdmsr(rig, 0xC001_0200), Is.Null, "core-extension counters are absent without PerfCtrExtCore");
    }

    [Test]
    public void EpycHasHwcrWithTscFreqSelAndNbCfgStorage()
    {
        using var rig = Rig(CpuModels.Epyc);
        Assert.That(Rdmsr(rig, Msr.AmdHwcr), Is.EqualTo(1UL << 24), "HWCR.TscFreqSel: the TSC counts at P0");
        Assert.That(Wrmsr(rig, Msr.AmdHwcr, 0), Is.True);
        Assert.That(Rdmsr(rig, Msr.AmdHwcr), Is.EqualTo(1UL << 24), "TscFreqSel is read-only 1");
        Assert.That(Rdmsr(rig, Msr.AmdNbCfg), Is.EqualTo(0UL));
        Assert.That(Wrmsr(rig, Msr.AmdNbCfg, 1UL << 46), Is.True, "Linux sets EnableCf8ExtCfg");
        Assert.That(Rdmsr(rig, Msr.AmdNbCfg), Is.EqualTo(1UL << 46));
        using var intel = Rig();
        Assert.That(Rdmsr(intel, Msr.AmdHwcr), Is.Null);
        Assert.That(Rdmsr(intel, Msr.AmdNbCfg), Is.Null);
    }

    [Test]
    public void EmmsEmptiesEveryX87Tag()
    {
        // Linux runs FNCLEX; EMMS; FILD on every AMD CPU (X86_BUG_FXSAVE_LEAK), MMX advertised or not.
        using var rig = Rig(CpuModels.Epyc);
        rig.Load(a =>
        {
            a.fninit(); a.fld1(); a.fldz(); a.emms();
            a.mov(rsi, TestRig.DataBase); a.fnstenv(__[rsi]);
        });
        Assert.That(rig.Cpu.Run(6), Is.EqualTo(StopReason.InstructionLimit), rig.Cpu.Diagnostic);
        Assert.That(rig.Memory.ReadPhys(TestRig.DataBase + 8, 2), Is.EqualTo(0xFFFFUL), "FTW: all empty");
        Assert.That(rig.Memory.ReadPhys(TestRig.DataBase + 4, 2) & 0x3800, Is.EqualTo(6UL << 11), "TOP unchanged");
        rig.Cpu.SetGpr(15, 0);
        rig.Load(a => { a.mov(rax, cr0); a.or(eax, 1 << 2); a.mov(cr0, rax); a.emms(); });
        rig.Cpu.Run(5);
        Assert.That(rig.Cpu.GetGpr(15), Is.EqualTo(GpMarker), "#UD with CR0.EM");
    }

    [Test]
    public void AmdPerformanceCounterMsrsAreAbsentOnIntel()
    {
        using var rig = Rig();
        Assert.That(Rdmsr(rig, 0xC001_0000), Is.Null);
        Assert.That(Wrmsr(rig, 0xC001_0004, 0), Is.False);
    }

    [TestCase(Msr.FsBase)]
    [TestCase(Msr.GsBase)]
    [TestCase(Msr.KernelGsBase)]
    [TestCase(Msr.Lstar)]
    [TestCase(Msr.Cstar)]
    [TestCase(Msr.SysenterEsp)]
    [TestCase(Msr.SysenterEip)]
    public void NonCanonicalAddressMsrWritesRaiseGp(uint msr)
    {
        using var rig = Rig();
        Assert.That(Wrmsr(rig, msr, 0x0000_8000_0000_0000), Is.False, "bit 47 set, 63:48 clear: non-canonical");
        Assert.That(Wrmsr(rig, msr, 0x1234_0000_0000_0000), Is.False);
        Assert.That(Wrmsr(rig, msr, 0xFFFF_8000_0000_1000), Is.True);
        Assert.That(Rdmsr(rig, msr), Is.EqualTo(0xFFFF_8000_0000_1000UL));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void WrfsbaseAndWrgsbaseRejectNonCanonicalBases(bool gs)
    {
        using var rig = Rig();
        rig.Cpu.SetGpr(15, 0);
        rig.Load(a =>
        {
            a.mov(rax, cr4); a.or(rax, 1 << 16); a.mov(cr4, rax);
            a.mov(rbx, 0xFFFF_8000_0000_2000UL);
            if (gs) a.wrgsbase(rbx); else a.wrfsbase(rbx);
            a.mov(rbx, 0x0000_8000_0000_0000UL);
            if (gs) a.wrgsbase(rbx); else a.wrfsbase(rbx);
            a.mov(r14, 1);
        });
        rig.Cpu.Run(8);
        Assert.That(rig.Cpu.GetGpr(15), Is.EqualTo(GpMarker), rig.Cpu.Diagnostic);
        Assert.That(rig.Cpu.GetGpr(14), Is.Zero);
        Assert.That(rig.Cpu.GetSegment(gs ? SegReg.GS : SegReg.FS).Base, Is.EqualTo(0xFFFF_8000_0000_2000UL), "the canonical write took");
    }

    [TestCase(false)]
    [TestCase(true)]
    public void LgdtAndLidtRejectNonCanonicalBasesIn64BitMode(bool idt)
    {
        using var rig = Rig();
        rig.Memory.WritePhys(TestRig.DataBase, 2, 0xFFF);
        rig.W64(TestRig.DataBase + 2, 0x0000_8000_0000_0000);
        rig.Cpu.SetGpr(15, 0);
        rig.Load(a =>
        {
            a.mov(rsi, TestRig.DataBase);
            if (idt) a.lidt(__[rsi]); else a.lgdt(__[rsi]);
            a.mov(r14, 1);
        });
        rig.Cpu.Run(3);
        Assert.That(rig.Cpu.GetGpr(15), Is.EqualTo(GpMarker), rig.Cpu.Diagnostic);
        Assert.That(rig.Cpu.GetGpr(14), Is.Zero);
    }

    [TestCase("Denverton")]
    [TestCase("EPYC")]
    public void CpuidApicBitFollowsTheApicGlobalEnable(string model)
    {
        using var rig = Rig(CpuModels.Find(model));
        ulong apicBase = Rdmsr(rig, Msr.ApicBase)!.Value;
        Assert.That(apicBase & (1 << 11), Is.Not.Zero, "enabled after reset");
        Assert.That(Cpuid(rig, 1).D & (1u << 9), Is.Not.Zero);
        Assert.That(Wrmsr(rig, Msr.ApicBase, apicBase & ~(1UL << 11)), Is.True);
        Assert.That(Cpuid(rig, 1).D & (1u << 9), Is.Zero, "CPUID.1:EDX.APIC clear while IA32_APIC_BASE.EN = 0");
        if (model == "EPYC") Assert.That(Cpuid(rig, 0x8000_0001).D & (1u << 9), Is.Zero, "AMD's copy too");
        Assert.That(Wrmsr(rig, Msr.ApicBase, apicBase), Is.True);
        Assert.That(Cpuid(rig, 1).D & (1u << 9), Is.Not.Zero);
    }
}
