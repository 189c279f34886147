using System.Text;
using KhoEmu.Cpu.State;
using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Cpu.Tests;

/// <summary>CPUID as the guest sees it for each model, the model MSRs, and feature-dependent instruction behaviour.</summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class CpuModelTests
{
    internal const ulong GpHandler = TestRig.CodeBase + 0x800;
    internal const ulong GpMarker = 0xBAD;

    /// <summary>A rig whose #GP and #UD handler sets R15 to <see cref="GpMarker"/>; helpers run exact instruction
    /// counts (no HLT, which would leave the CPU halted for the next helper).</summary>
    internal static TestRig Rig(CpuModel? model = null)
    {
        var rig = new TestRig(model: model);
        rig.SetGate(Vector.GP, GpHandler);
        rig.SetGate(Vector.UD, GpHandler);
        rig.Load(a => { a.mov(r15, GpMarker); a.hlt(); }, GpHandler);
        return rig;
    }

    internal static (uint A, uint B, uint C, uint D) Cpuid(TestRig rig, uint leaf, uint subleaf = 0)
    {
        rig.Load(a => { a.mov(eax, leaf); a.mov(ecx, subleaf); a.cpuid(); });
        Assert.That(rig.Cpu.Run(3), Is.EqualTo(StopReason.InstructionLimit), rig.Cpu.Diagnostic);
        var c = rig.Cpu;
        return ((uint)c.GetGpr(Cpu.RAX), (uint)c.GetGpr(Cpu.RBX), (uint)c.GetGpr(Cpu.RCX), (uint)c.GetGpr(Cpu.RDX));
    }

    /// <summary>RDMSR; null when it raised #GP.</summary>
    internal static ulong? Rdmsr(TestRig rig, uint msr)
    {
        rig.Cpu.SetGpr(15, 0);
        rig.Load(a => { a.mov(ecx, msr); a.rdmsr(); });
        rig.Cpu.Run(2); // with a #GP the second instruction is the handler's marker move
        var c = rig.Cpu;
        return c.GetGpr(15) == GpMarker ? null : (c.GetGpr(Cpu.RDX) << 32) | (uint)c.GetGpr(Cpu.RAX);
    }

    /// <summary>WRMSR; false when it raised #GP.</summary>
    internal static bool Wrmsr(TestRig rig, uint msr, ulong value)
    {
        rig.Cpu.SetGpr(15, 0);
        rig.Load(a => { a.mov(ecx, msr); a.mov(eax, (uint)value); a.mov(edx, (uint)(value >> 32)); a.wrmsr(); });
        rig.Cpu.Run(4);
        return rig.Cpu.GetGpr(15) != GpMarker;
    }

    internal static string Text(params uint[] words) =>
        Encoding.ASCII.GetString(words.SelectMany(BitConverter.GetBytes).ToArray()).TrimEnd('\0');

    internal static (int Family, int Model, int Stepping) Decode(uint eax)
    {
        int family = (int)(eax >> 8) & 0xF, model = (int)(eax >> 4) & 0xF;
        if (family == 0xF) family += (int)(eax >> 20) & 0xFF;
        if (family is 6 or 15) model |= (int)((eax >> 16) & 0xF) << 4;
        return (family, model, (int)eax & 0xF);
    }

    [Test]
    public void DefaultModelIsAnIntelFamily6Denverton()
    {
        using var rig = Rig();
        var l0 = Cpuid(rig, 0);
        Assert.That(Text(l0.B, l0.D, l0.C), Is.EqualTo("GenuineIntel"));
        Assert.That(l0.A, Is.EqualTo(0x15u));
        var l1 = Cpuid(rig, 1);
        Assert.That(Decode(l1.A), Is.EqualTo((6, 95, 1)));
        Assert.That(rig.Cpu.Model, Is.SameAs(CpuModels.Denverton));
        Assert.That(l1.B >> 24, Is.Zero, "APIC ID 0");
        Assert.That((l1.B >> 16) & 0xFF, Is.EqualTo(1u), "one logical processor");
        Assert.That((l1.B >> 8) & 0xFF, Is.EqualTo(8u), "CLFLUSH line 64 bytes");
        Assert.That(l1.D & (1u << 28), Is.Zero, "no HTT");
        Assert.That(l1.D & 1, Is.EqualTo(1u), "FPU");
        Assert.That(l1.C & (1u << 30), Is.Not.Zero, "RDRAND");
        Assert.That(l1.C & 1, Is.Zero, "no SSE3: not implemented");
        Assert.That(Cpuid(rig, 7).B & (1u << 18 | 1u << 0), Is.EqualTo(1u << 18 | 1u << 0), "RDSEED, FSGSBASE");
        Assert.That(Cpuid(rig, 7).B & (1u << 3), Is.Zero, "no BMI1: ANDN/BEXTR/BLS* are not implemented");
        var brand = new[] { 0x8000_0002u, 0x8000_0003u, 0x8000_0004u }.Select(l => Cpuid(rig, l)).SelectMany(r => new[] { r.A, r.B, r.C, r.D });
        Assert.That(Text(brand.ToArray()), Is.EqualTo("Intel Atom Processor (Denverton)"));
        Assert.That(Cpuid(rig, 0x8000_0000).A, Is.EqualTo(0x8000_0008u));
        Assert.That(Cpuid(rig, 0x8000_0001).C & (1u << 5), Is.Zero, "no LZCNT");
    }

    [Test]
    public void TopologyAndCacheLeavesDescribeOneCoreOneThread()
    {
        using var rig = Rig();
        int caches = 0;
        for (uint i = 0; i < 8; i++)
        {
            var l4 = Cpuid(rig, 4, i);
            if ((l4.A & 0x1F) == 0) break;
            caches++;
            Assert.That(l4.A >> 14, Is.Zero, $"leaf 4.{i}: one thread sharing, one core per package");
            uint size = (((l4.B >> 22) & 0x3FF) + 1) * (((l4.B >> 12) & 0x3FF) + 1) * ((l4.B & 0xFFF) + 1) * (l4.C + 1);
            Assert.That(size, Is.AnyOf(32u << 10, 4u << 20, 16u << 20), $"leaf 4.{i} size");
        }
        Assert.That(caches, Is.EqualTo(4));
        var smt = Cpuid(rig, 0xB, 0);
        var core = Cpuid(rig, 0xB, 1);
        var end = Cpuid(rig, 0xB, 2);
        Assert.That((smt.B & 0xFFFF, (smt.C >> 8) & 0xFF), Is.EqualTo((1u, 1u)), "SMT level: one thread");
        Assert.That((core.B & 0xFFFF, (core.C >> 8) & 0xFF), Is.EqualTo((1u, 2u)), "core level: one processor");
        Assert.That((end.C >> 8) & 0xFF, Is.Zero, "then the invalid level");
        var tsc = Cpuid(rig, 0x15);
        Assert.That((ulong)tsc.C * tsc.B / tsc.A, Is.EqualTo(1_000_000_000UL), "TSC frequency = 1 GHz (virtual ns)");
        Assert.That(Cpuid(rig, 0x4000_0000), Is.EqualTo(tsc), "a leaf above the maximum returns the highest basic leaf");
    }

    [Test]
    public void Qemu64IsQemusDefaultAmdModel()
    {
        using var rig = Rig(CpuModels.Qemu64);
        var l0 = Cpuid(rig, 0);
        Assert.That(Text(l0.B, l0.D, l0.C), Is.EqualTo("AuthenticAMD"));
        Assert.That(l0.A, Is.EqualTo(0xDu));
        var l1 = Cpuid(rig, 1);
        Assert.That(Decode(l1.A), Is.EqualTo((15, 107, 1)));
        Assert.That(l1.C & (1u << 30 | 1u << 23), Is.Zero, "no RDRAND, no POPCNT (qemu64 has neither)");
        var e1 = Cpuid(rig, 0x8000_0001);
        Assert.That(e1.A, Is.EqualTo(l1.A), "AMD repeats the signature");
        Assert.That(e1.D & 0x0183_F3FF, Is.EqualTo(l1.D & 0x0183_F3FF), "and the shared EDX bits");
        Assert.That(e1.D & (1u << 29 | 1u << 20 | 1u << 11), Is.EqualTo(1u << 29 | 1u << 20 | 1u << 11), "LM, NX, SYSCALL");
        Assert.That(Cpuid(rig, 0x8000_0000).A, Is.EqualTo(0x8000_000Au));
        rig.Cpu.SetGpr(15, 0);
        rig.Load(a => a.popcnt(rax, rbx));
        rig.Cpu.Run(1);
        Assert.That(rig.Cpu.GetGpr(15), Is.EqualTo(GpMarker), "POPCNT is #UD without CPUID.POPCNT");
    }

    [Test]
    public void TzcntAndLzcntAreBsfAndBsrWithoutTheirFeatures()
    {
        using var rig = Rig();
        rig.Load(a =>
        {
            a.mov(eax, 0x1234); a.xor(ecx, ecx); a.tzcnt(eax, ecx);   // BSF of 0: destination unchanged, ZF=1
            a.mov(ebx, 0x10); a.lzcnt(edx, ebx);                      // BSR: bit index 4, not 27 leading zeros
        });
        rig.Cpu.Run(5);
        Assert.That(rig.Cpu.GetGpr(Cpu.RAX), Is.EqualTo(0x1234));
        Assert.That(rig.Cpu.GetGpr(Cpu.RDX), Is.EqualTo(4));
    }

    [Test]
    public void MiscEnableFeatureControlAndMicrocodeMsrs()
    {
        using var rig = Rig();
        Assert.That(Rdmsr(rig, Msr.MiscEnable)! & Msr.MiscFastStrings, Is.Not.Zero, "fast strings enabled");
        Assert.That(Wrmsr(rig, Msr.MiscEnable, Msr.MiscFastStrings | Msr.MiscLimitCpuid), Is.True);
        Assert.That(Cpuid(rig, 0).A, Is.EqualTo(2u), "LIMIT_CPUID caps the maximum leaf at 2");
        Assert.That(Wrmsr(rig, Msr.MiscEnable, Msr.MiscFastStrings | Msr.MiscXdDisable), Is.True);
        Assert.That(Cpuid(rig, 0).A, Is.EqualTo(0x15u));
        Assert.That(Cpuid(rig, 0x8000_0001).D & (1u << 20), Is.Zero, "XD_DISABLE hides NX");
        Assert.That(Wrmsr(rig, Msr.Efer, Msr.EferLme | Msr.EferLma | Msr.EferSce | Msr.EferNxe), Is.False, "and EFER.NXE");
        Assert.That(Wrmsr(rig, Msr.MiscEnable, Msr.MiscFastStrings), Is.True);
        Assert.That(Cpuid(rig, 0x8000_0001).D & (1u << 20), Is.Not.Zero);

        Assert.That(Rdmsr(rig, Msr.FeatureControl), Is.EqualTo(1UL), "locked, VMX off");
        Assert.That(Wrmsr(rig, Msr.FeatureControl, 5), Is.False, "locked: #GP");
        Assert.That(Wrmsr(rig, Msr.BiosSignId, 0), Is.True);
        Assert.That(Rdmsr(rig, Msr.BiosSignId) >> 32, Is.EqualTo(1UL), "microcode revision 1 (QEMU's Intel default)");
        Assert.That(Rdmsr(rig, Msr.ArchCapabilities), Is.EqualTo(0x9UL), "RDCL_NO | SKIP_L1DFL_VMENTRY");
        Assert.That(Rdmsr(rig, 0x1234), Is.Null, "unknown MSRs #GP");
        Assert.That(Rdmsr(rig, Msr.AmdSyscfg), Is.Null, "AMD's SYSCFG is not an Intel MSR");
    }

    [Test]
    public void MtrrsAreStorageBehindMtrrCap()
    {
        using var rig = Rig();
        Assert.That(Cpuid(rig, 1).D & (1u << 12), Is.Not.Zero, "MTRR advertised");
        Assert.That(Rdmsr(rig, Msr.MtrrCap), Is.EqualTo(0x508UL), "8 variable ranges, fixed ranges, WC");
        Assert.That(Wrmsr(rig, Msr.MtrrCap, 0), Is.False, "MTRRcap is read-only");
        Assert.That(Rdmsr(rig, Msr.MtrrDefType), Is.Zero, "disabled after reset");
        Assert.That(Wrmsr(rig, Msr.MtrrDefType, 0xC06), Is.True);
        Assert.That(Wrmsr(rig, Msr.MtrrDefType, 0x1C06), Is.False, "reserved bits #GP");
        foreach (uint msr in new uint[] { 0x200, 0x20F, 0x250, 0x258, 0x259, 0x268, 0x26F })
        {
            ulong v = 0x0606_0606_0606_0000UL | msr;
            Assert.That(Wrmsr(rig, msr, v), Is.True, $"MSR {msr:x}");
            Assert.That(Rdmsr(rig, msr), Is.EqualTo(v), $"MSR {msr:x} reads back");
        }
        Assert.That(Rdmsr(rig, Msr.MtrrDefType), Is.EqualTo(0xC06UL));
        Assert.That(Rdmsr(rig, 0x210), Is.Null, "beyond the eight variable pairs");
    }

    [Test]
    public void AmdModelHasNoIntelOnlyMsrsOrFsgsbase()
    {
        using var rig = Rig(CpuModels.Qemu64);
        Assert.That(Rdmsr(rig, Msr.MiscEnable), Is.Null);
        Assert.That(Rdmsr(rig, Msr.FeatureControl), Is.Null);
        Assert.That(Rdmsr(rig, Msr.ArchCapabilities), Is.Null);
        Assert.That(Rdmsr(rig, Msr.BiosSignId), Is.EqualTo(0x0100_0065UL), "PATCH_LEVEL, QEMU's AMD default");
        Assert.That(Rdmsr(rig, Msr.AmdSyscfg), Is.Zero, "SYSCFG (read by Linux's MTRR code on AMD)");
        Assert.That(Wrmsr(rig, Msr.AmdSyscfg, 1 << 18), Is.True);
        Assert.That(Rdmsr(rig, Msr.AmdSyscfg), Is.EqualTo(1UL << 18));
        Assert.That(Rdmsr(rig, Msr.AmdIntPendingMsg), Is.Zero, "C1E not active (Linux checks it for erratum 400)");
        rig.Cpu.SetGpr(15, 0);
        rig.Load(a => { a.mov(rax, cr4); a.or(eax, 1 << 16); a.mov(cr4, rax); });
        rig.Cpu.Run(3);
        Assert.That(rig.Cpu.GetGpr(15), Is.EqualTo(GpMarker), "CR4.FSGSBASE is reserved without the feature");
    }
}
