using KhoEmu.Cpu.State;
using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Cpu.Tests;

/// <summary>SALC, ARPL, INT1, RDRAND/RDSEED and software interrupts that end in a triple fault.</summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class LegacyInstructionTests
{
    [Test]
    public void SalcCopiesCarryIntoAlInCompatibilityMode()
    {
        using var r = new DescriptorRig(32, 0);
        r.Load(a =>
        {
            a.mov(eax, 0x1234_5600); a.stc(); a.salc(); a.mov(ebx, eax);
            a.mov(eax, 0x1234_56AA); a.clc(); a.salc(); a.mov(ecx, eax);
            a.pushfd(); a.pop(edx);
        });
        Assert.That(r.Cpu.Run(10), Is.EqualTo(StopReason.InstructionLimit), r.Cpu.Diagnostic);
        Assert.That(r.Cpu.GetGpr(Cpu.RBX), Is.EqualTo(0x1234_56FF));
        Assert.That(r.Cpu.GetGpr(Cpu.RCX), Is.EqualTo(0x1234_5600));
        Assert.That(r.Cpu.GetGpr(Cpu.RDX) & Rflags.CF, Is.Zero, "flags unchanged by SALC");
    }

    [Test]
    public void SalcIsInvalidIn64BitMode()
    {
        using var rig = new TestRig();
        const ulong handler = TestRig.CodeBase + 0x800;
        rig.SetGate(Vector.UD, handler);
        rig.Load(a => { a.mov(eax, 0x55); a.hlt(); }, handler);
        rig.Memory.Write(TestRig.CodeBase, [0xD6, 0xF4]); // SALC, HLT
        rig.Cpu.InstructionPointer = TestRig.CodeBase;
        rig.Cpu.Run(100);
        Assert.That(rig.Cpu.GetGpr(Cpu.RAX), Is.EqualTo(0x55), "#UD delivered");
    }

    [TestCase(false, TestName = "ARPL in compatibility mode")]
    [TestCase(true, TestName = "ARPL in legacy protected mode")]
    public void ArplRaisesRplAndReportsInZf(bool legacy)
    {
        using var r = new DescriptorRig(32, 0, legacy);
        r.Rig.Memory.WritePhys(TestRig.DataBase, 2, 0x0011);
        r.Load(a =>
        {
            a.mov(eax, 0xABCD_0010); a.mov(ecx, 0x0003); a.arpl(ax, cx); a.setz(bl);   // RPL 0 → 3, ZF=1
            a.mov(edx, 0x0013); a.mov(ecx, 0x0001); a.arpl(dx, cx); a.setz(bh);        // RPL 3 ≥ 1: unchanged, ZF=0
            a.mov(esi, (uint)TestRig.DataBase); a.mov(ecx, 2); a.arpl(__word_ptr[esi], cx); a.setz(cl);
        });
        Assert.That(r.Cpu.Run(12), Is.EqualTo(StopReason.InstructionLimit), r.Cpu.Diagnostic);
        Assert.That(r.Cpu.GetGpr(Cpu.RAX), Is.EqualTo(0xABCD_0013), "only the low word's RPL changes");
        Assert.That(r.Cpu.GetGpr(Cpu.RBX) & 0xFFFF, Is.EqualTo(0x0001));
        Assert.That(r.Cpu.GetGpr(Cpu.RDX), Is.EqualTo(0x0013));
        Assert.That(r.Rig.Memory.ReadPhys(TestRig.DataBase, 2), Is.EqualTo(0x0012));
        Assert.That(r.Cpu.GetGpr(Cpu.RCX) & 0xFF, Is.EqualTo(1));
    }

    [Test]
    public void Int1DeliversDebugTrapIgnoringGateDpl()
    {
        using var rig = new TestRig();
        const ulong handler = TestRig.CodeBase + 0x800;
        rig.SetGate(Vector.DB, handler, dpl: 0);
        rig.SetGate(Vector.GP, TestRig.CodeBase + 0x900);
        rig.Load(a => { a.mov(rax, __qword_ptr[rsp]); a.mov(rbx, 0xDB); a.hlt(); }, handler);
        rig.Load(a => { a.mov(rbx, 0x6D); a.hlt(); }, TestRig.CodeBase + 0x900);
        rig.Load(a => { a.nop(); a.int1(); a.hlt(); });
        rig.Cpu.Run(100);
        Assert.That(rig.Cpu.GetGpr(Cpu.RBX), Is.EqualTo(0xDB), "#DB handler ran");
        Assert.That(rig.Cpu.GetGpr(Cpu.RAX), Is.EqualTo(TestRig.CodeBase + 2), "trap: saved RIP is after INT1");
    }

    [Test]
    public void Int1AtCpl3ReachesADpl0GateWhileInt3RaisesGp()
    {
        foreach (bool icebp in new[] { true, false })
        {
            using var r = new DescriptorRig(64, 3);
            const ulong dbHandler = TestRig.CodeBase + 0x800, gpHandler = TestRig.CodeBase + 0x900;
            r.Rig.SetGate(Vector.DB, dbHandler, dpl: 0);
            r.Rig.SetGate(Vector.BP, dbHandler, dpl: 0);
            r.Rig.SetGate(Vector.GP, gpHandler, dpl: 0);
            r.Rig.Load(a => { a.mov(rbx, 0xDB); a.hlt(); }, dbHandler);
            r.Rig.Load(a => { a.mov(rbx, 0x6D); a.hlt(); }, gpHandler);
            SetRsp0(r, 0x70_0000);
            r.Load(a => { if (icebp) a.int1(); else a.int3(); });
            r.Cpu.Run(10);
            Assert.That(r.Cpu.GetGpr(Cpu.RBX), Is.EqualTo(icebp ? 0xDB : 0x6D), icebp ? "INT1 is not DPL-checked" : "INT3 through a DPL0 gate: #GP");
        }
    }

    /// <summary>A 64-bit TSS at 0x5000 with RSP0 for privilege changes from ring 3.</summary>
    internal static void SetRsp0(DescriptorRig r, ulong rsp0)
    {
        const ulong tss = 0x5000;
        r.Rig.W64(tss + 4, rsp0);
        r.SetDescriptor(DescriptorRig.FreeIndex, DescriptorRig.Descriptor(0x89, 0x67) | ((tss & 0xFFFFFF) << 16));
        r.SetDescriptor(DescriptorRig.FreeIndex + 1, 0);
        int cpl = r.Cpu.CurrentPrivilegeLevel;
        var cs = r.Cpu.GetSegment(SegReg.CS);
        var ss = r.Cpu.GetSegment(SegReg.SS);
        // LTR needs CPL 0: run it from a ring-0 stub, then return to the caller's privilege level.
        r.Cpu.LoadSegment(SegReg.CS, SegmentCache.FromDescriptor(0x08, 0x00AF_9B00_0000_FFFF));
        r.Cpu.LoadSegment(SegReg.SS, SegmentCache.FromDescriptor(0x10, 0x00CF_9300_0000_FFFF));
        r.Load(a => { a.mov(eax, DescriptorRig.FreeIndex * 8); a.ltr(ax); });
        Assert.That(r.Cpu.Run(2), Is.EqualTo(StopReason.InstructionLimit), r.Cpu.Diagnostic);
        r.Cpu.LoadSegment(SegReg.CS, cs);
        r.Cpu.LoadSegment(SegReg.SS, ss);
        Assert.That(r.Cpu.CurrentPrivilegeLevel, Is.EqualTo(cpl));
    }

    [TestCase("int3")]
    [TestCase("int 0x80")]
    [TestCase("into")]
    [TestCase("int1")]
    public void TripleFaultWhileDeliveringASoftwareInterruptEndsTheRun(string insn)
    {
        // Linux's reboot=t: load an empty IDT, then INT3. The #GP from the IDT limit escalates to #DF and shutdown.
        using var r = new DescriptorRig(32, 0);
        r.Cpu.SetDescriptorTables(DescriptorRig.GdtBase, DescriptorRig.GdtLimit, 0, 0);
        r.Load(a =>
        {
            var spin = a.CreateLabel();
            a.mov(eax, 0x7FFF_FFFF); a.add(eax, 1); // OF=1 for INTO
            switch (insn)
            {
                case "int3": a.int3(); break;
                case "int 0x80": a.@int(0x80); break;
                case "into": a.into(); break;
                default: a.int1(); break;
            }
            a.Label(ref spin);
            a.jmp(spin);
        });
        Assert.That(r.Cpu.Run(1_000_000), Is.EqualTo(StopReason.TripleFault));
        Assert.That(r.Cpu.TripleFaulted, Is.True);
        Assert.That(r.Cpu.Diagnostic, Does.Contain("triple fault"));
        Assert.That(r.Cpu.InstructionCount, Is.LessThan(10UL), "no instruction runs after the shutdown");
    }

    [Test]
    public void RdrandAndRdseedAreDeterministicPerSeed()
    {
        static ulong[] Draw(ulong seed)
        {
            var rig = new TestRig(seed);
            rig.Load(a =>
            {
                a.rdrand(rax); a.setc(r8b);
                a.rdrand(ebx); a.setc(r9b);
                a.rdseed(cx); a.setc(r10b);
                a.rdseed(rdx); a.setc(r11b);
                a.pushfq(); a.pop(rsi);
            });
            var cpu = rig.Cpu;
            cpu.SetGpr(Cpu.RCX, 0xFFFF_FFFF_FFFF_FFFF);
            Assert.That(cpu.Run(10), Is.EqualTo(StopReason.InstructionLimit), cpu.Diagnostic);
            Assert.That(cpu.GetGpr(8) & cpu.GetGpr(9) & cpu.GetGpr(10) & cpu.GetGpr(11) & 1, Is.EqualTo(1), "CF=1 each time");
            Assert.That(cpu.GetGpr(Cpu.RSI) & (Rflags.OF | Rflags.SF | Rflags.ZF | Rflags.AF | Rflags.PF), Is.Zero);
            Assert.That(cpu.GetGpr(Cpu.RBX) >> 32, Is.Zero, "32-bit destination zero-extends");
            Assert.That(cpu.GetGpr(Cpu.RCX) >> 16, Is.EqualTo(0xFFFF_FFFF_FFFFUL), "16-bit destination merges");
            ulong[] v = [cpu.GetGpr(Cpu.RAX), cpu.GetGpr(Cpu.RBX), cpu.GetGpr(Cpu.RCX) & 0xFFFF, cpu.GetGpr(Cpu.RDX)];
            rig.Dispose();
            return v;
        }
        var a1 = Draw(Cpu.DefaultRngSeed);
        var a2 = Draw(Cpu.DefaultRngSeed);
        var b = Draw(12345);
        Assert.That(a2, Is.EqualTo(a1), "same seed, same values");
        Assert.That(b, Is.Not.EqualTo(a1), "another seed, other values");
        Assert.That(a1.Distinct().Count(), Is.EqualTo(4));
    }

    [Test]
    public void Xoshiro256StarStarMatchesTheReferenceOutput()
    {
        // First outputs of the reference xoshiro256starstar.c with its state filled by splitmix64.c from seed 0
        // (computed by compiling the authors' C code).
        var g = new Xoshiro256StarStar(0);
        ulong[] expected = [0x99EC5F36CB75F2B4, 0xBF6E1F784956452A, 0x1A5F849D4933E6E0, 0x6AA594F1262D2D2C];
        Assert.That(Enumerable.Range(0, 4).Select(_ => g.Next()).ToArray(), Is.EqualTo(expected));
    }

    [Test]
    public void RdrandIsInvalidOnAModelWithoutIt()
    {
        using var rig = new TestRig(model: CpuModels.Qemu64);
        const ulong handler = TestRig.CodeBase + 0x800;
        rig.SetGate(Vector.UD, handler);
        rig.Load(a => { a.mov(ebx, 0x66); a.hlt(); }, handler);
        rig.Load(a => { a.rdrand(rax); a.hlt(); });
        rig.Cpu.Run(100);
        Assert.That(rig.Cpu.GetGpr(Cpu.RBX), Is.EqualTo(0x66));
    }
}
