using KhoEmu.Cpu.State;
using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Cpu.Tests;

/// <summary>
/// x2APIC on the processor side (SDM vol. 3, 11.12.1): CPUID.1:ECX[21] as the models advertise it (QEMU's Denverton
/// and TCG's max have it, qemu64 and EPYC-v1 do not), leaf 0Bh on the models that have it, and IA32_APIC_BASE.EXTD
/// refused with #GP on a model without x2APIC.
/// </summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class X2ApicCpuidTests
{
    [TestCase("Denverton", true)]
    [TestCase("max", true)]
    [TestCase("qemu64", false)]
    [TestCase("EPYC", false)]
    public void ModelsAdvertiseX2ApicAsQemuTcgDoes(string name, bool x2apic)
    {
        var model = CpuModels.Find(name)!;
        Assert.That((model.Query(1, 0).Ecx >> 21) & 1, Is.EqualTo(x2apic ? 1u : 0u));
        if (x2apic) Assert.That(model.Query(0xB, 0).Ecx, Is.EqualTo(0x100u), "leaf 0Bh sub-leaf 0: SMT level");
    }

    [TestCase("qemu64", true)]
    [TestCase("Denverton", false)]
    public void ExtdRaisesGpWithoutX2Apic(string name, bool faults)
    {
        using var rig = new TestRig(model: CpuModels.Find(name));
        const ulong handler = TestRig.CodeBase + 0x800;
        rig.SetGate(Vector.GP, handler);
        rig.Load(a => { a.mov(r15, 0xBAD); a.hlt(); }, handler);
        rig.Load(a =>
        {
            a.mov(ecx, 0x1B); a.mov(eax, 0xFEE0_0C00); a.xor(edx, edx); a.wrmsr();   // EN | EXTD
            a.mov(r14, 1); a.hlt();
        });
        rig.Cpu.Run(20);
        Assert.That(rig.Cpu.GetGpr(15), Is.EqualTo(faults ? 0xBADUL : 0UL), rig.Cpu.Diagnostic);
        Assert.That(rig.Cpu.X2ApicMode, Is.EqualTo(!faults));
    }
}
