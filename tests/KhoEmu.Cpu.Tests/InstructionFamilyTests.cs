using Iced.Intel;
using KhoEmu.Cpu.State;
using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Cpu.Tests;

/// <summary>Small guest programs per instruction family, checking architectural results.</summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class InstructionFamilyTests
{
    private static TestRig RunProgram(Action<Assembler> body, ulong max = 100_000)
    {
        var rig = new TestRig();
        rig.Load(a => { body(a); a.hlt(); });
        var reason = rig.Cpu.Run(max);
        Assert.That(reason, Is.EqualTo(StopReason.HaltedForever), rig.Cpu.Diagnostic);
        return rig;
    }

    [Test]
    public void IntegerLoopSumsOneToHundred()
    {
        using var rig = RunProgram(a =>
        {
            var top = a.CreateLabel();
            a.xor(eax, eax);
            a.mov(ecx, 100);
            a.Label(ref top);
            a.add(rax, rcx);
            a.dec(ecx);
            a.jnz(top);
        });
        Assert.That(rig.Cpu.GetGpr(Cpu.RAX), Is.EqualTo(5050));
    }

    [Test]
    public void RepMovsAndStosCopyAndFill()
    {
        using var rig = new TestRig();
        for (ulong i = 0; i < 100; i++) rig.Memory.WritePhys(TestRig.DataBase + i, 1, i * 3);
        rig.Load(a =>
        {
            a.mov(rsi, TestRig.DataBase);
            a.mov(rdi, TestRig.DataBase + 0x1000 - 50); // crosses a page boundary
            a.mov(ecx, 100);
            a.rep.movsb();
            a.mov(rdi, TestRig.DataBase + 0x2000);
            a.mov(eax, 0xABCD1234);
            a.mov(ecx, 10);
            a.rep.stosd();
            a.hlt();
        });
        rig.Cpu.Run(10_000);
        for (ulong i = 0; i < 100; i++) Assert.That(rig.Memory.ReadPhys(TestRig.DataBase + 0x1000 - 50 + i, 1), Is.EqualTo((i * 3) & 0xFF));
        Assert.That(rig.Memory.ReadPhys(TestRig.DataBase + 0x2000 + 36, 4), Is.EqualTo(0xABCD1234));
        Assert.That(rig.Memory.ReadPhys(TestRig.DataBase + 0x2000 + 40, 4), Is.EqualTo(0));
        Assert.That(rig.Cpu.GetGpr(Cpu.RCX), Is.EqualTo(0));
    }

    [Test]
    public void RepeScasFindsByte()
    {
        using var rig = new TestRig();
        rig.Memory.Write(TestRig.DataBase, "hello, world"u8);
        rig.Load(a =>
        {
            a.mov(rdi, TestRig.DataBase);
            a.mov(al, (byte)',');
            a.mov(ecx, 12);
            a.repne.scasb();
            a.hlt();
        });
        rig.Cpu.Run(1000);
        Assert.That(rig.Cpu.GetGpr(Cpu.RDI), Is.EqualTo(TestRig.DataBase + 6));
        Assert.That(rig.Cpu.GetGpr(Cpu.RCX), Is.EqualTo(6));
    }

    [Test]
    public void DivideByZeroIsDeliveredThroughIdtWithFaultingRip()
    {
        using var rig = new TestRig();
        const ulong handler = TestRig.CodeBase + 0x800;
        rig.SetGate(0, handler);
        rig.Load(a => { a.mov(rax, 0x1234); a.mov(__qword_ptr[TestRig.DataBase], rsp); a.hlt(); }, handler);
        rig.Load(a => { a.xor(ecx, ecx); a.div(rcx); a.hlt(); });
        rig.Cpu.Run(1000);
        Assert.That(rig.Cpu.GetGpr(Cpu.RAX), Is.EqualTo(0x1234));
        ulong frame = rig.R64(TestRig.DataBase);
        Assert.That(rig.R64(frame), Is.EqualTo(TestRig.CodeBase + 2), "pushed RIP is the faulting div");
        Assert.That(rig.R64(frame + 8), Is.EqualTo(0x08), "pushed CS");
    }

    [Test]
    public void PageFaultReportsCr2AndErrorCode()
    {
        using var rig = new TestRig();
        const ulong handler = TestRig.CodeBase + 0x800;
        rig.SetGate(14, handler);
        rig.Load(a => { a.pop(rbx); a.mov(rdx, cr2); a.hlt(); }, handler);
        rig.Load(a => { a.mov(rax, 0x7000_0000_0000UL); a.mov(__qword_ptr[rax], rcx); a.hlt(); });
        rig.Cpu.Run(1000);
        Assert.That(rig.Cpu.GetGpr(Cpu.RDX), Is.EqualTo(0x7000_0000_0000UL));
        Assert.That(rig.Cpu.GetGpr(Cpu.RBX), Is.EqualTo(2), "write to a not-present page: W=1, P=0");
    }

    [Test]
    public void UnhandledFaultWithEmptyIdtTripleFaults()
    {
        using var rig = new TestRig();
        rig.Cpu.SetDescriptorTables(0x500, 23, 0, 0);
        rig.Load(a => a.ud2());
        Assert.That(rig.Cpu.Run(100), Is.EqualTo(StopReason.TripleFault));
        Assert.That(rig.Cpu.Diagnostic, Does.Contain("triple fault"));
    }

    [Test]
    public void InvlpgAndCr3ReloadDropStaleTranslations()
    {
        using var rig = new TestRig();
        // Map linear 0x4000_0000 (PDPT[1] → a new PD) to physical 0x0060_0000 first, then to 0x0080_0000.
        const ulong pd2 = 0x10_3000;
        rig.W64(0x10_1000 + 8, pd2 | 3);
        rig.W64(pd2, 0x60_0000 | 0x87);
        rig.Memory.WritePhys(0x60_0000, 8, 111);
        rig.Memory.WritePhys(0x80_0000, 8, 222);
        rig.Load(a =>
        {
            a.mov(rsi, 0x4000_0000UL);
            a.mov(rax, __qword_ptr[rsi]);
            a.mov(rdi, pd2);
            a.mov(__qword_ptr[rdi], 0x80_0087);
            a.mov(rbx, __qword_ptr[rsi]);   // stale TLB entry still maps the old page
            a.invlpg(__[rsi]);
            a.mov(rcx, __qword_ptr[rsi]);
            a.hlt();
        });
        rig.Cpu.Run(1000);
        Assert.That(rig.Cpu.GetGpr(Cpu.RAX), Is.EqualTo(111));
        Assert.That(rig.Cpu.GetGpr(Cpu.RBX), Is.EqualTo(111));
        Assert.That(rig.Cpu.GetGpr(Cpu.RCX), Is.EqualTo(222));
    }

    [Test]
    public void SelfModifyingCodeIsReDecoded()
    {
        using var rig = new TestRig();
        rig.Load(a =>
        {
            var patch = a.CreateLabel();
            a.mov(ecx, 2);
            a.Label(ref patch);
            a.mov(eax, 1);                      // b8 01 00 00 00: the immediate gets patched to 7
            a.lea(rdi, __[patch]);
            a.mov(__byte_ptr[rdi + 1], 7);
            a.dec(ecx);
            a.jnz(patch);
            a.hlt();
        });
        rig.Cpu.Run(1000);
        Assert.That(rig.Cpu.GetGpr(Cpu.RAX), Is.EqualTo(7));
        Assert.That(rig.Cpu.CodeInvalidations, Is.GreaterThan(0));
    }

    [Test]
    public void SyscallAndSysretSwitchPrivilege()
    {
        using var rig = new TestRig();
        const ulong kernelEntry = TestRig.CodeBase + 0x800;
        // User pages need U=1 on every level.
        rig.W64(0x10_0000, 0x10_1000 | 7);
        rig.W64(0x10_1000, 0x10_2000 | 7);
        for (ulong i = 0; i < 512; i++) rig.W64(0x10_2000 + i * 8, (i << 21) | 0x87);
        rig.Cpu.SetGpr(0, 0);
        rig.Load(a => { a.mov(r12, rcx); a.mov(r13, cs); a.sysretq(); }, kernelEntry);
        rig.Load(a =>
        {
            var user = a.CreateLabel();
            a.mov(ecx, Msr.Star);
            a.xor(eax, eax);
            a.mov(edx, 0x0008_0008);             // SYSRET base 0x08 (CS = 0x1B, SS = 0x13), SYSCALL CS 0x08
            a.wrmsr();
            a.mov(ecx, Msr.Lstar);
            a.mov(rax, kernelEntry);
            a.mov(rdx, 0);
            a.wrmsr();
            a.syscall();
            a.mov(r14, cs);                      // back at CPL 3
            a.hlt();                             // #GP at CPL 3: no IDT gate → triple fault ends the run
        });
        rig.Cpu.Run(1000);
        Assert.That(rig.Cpu.GetGpr(13) & 3, Is.EqualTo(0), "CPL 0 in the syscall handler");
        Assert.That(rig.Cpu.GetGpr(14) & 3, Is.EqualTo(3), "CPL 3 after sysret");
        Assert.That(rig.Cpu.CurrentPrivilegeLevel, Is.EqualTo(3));
    }

    [Test]
    public void UnimplementedInstructionStopsWithDisassembly()
    {
        // PSHUFW is advertised with SSE; its MMX registers are not modelled (VMCALL, used here before, is now #UD:
        // no model advertises VMX).
        using var rig = new TestRig();
        rig.Load(a => { a.nop(); a.pshufw(mm0, mm1, 0x1B); });
        Assert.That(rig.Cpu.Run(100), Is.EqualTo(StopReason.Unsupported));
        Assert.That(rig.Cpu.Diagnostic, Does.Contain("pshufw"));
        Assert.That(rig.Cpu.InstructionPointer, Is.EqualTo(TestRig.CodeBase + 1));
    }

    [Test]
    public void MmxFormStopsWhileTheSse2FormRuns()
    {
        // MMX belongs to x86-64 (not gated), but its register file is not modelled: the MMX form stops the machine.
        using var rig = new TestRig();
        rig.Load(a => { a.psrlw(xmm1, 3); a.psrlw(mm0, mm1); });
        Assert.That(rig.Cpu.Run(100), Is.EqualTo(StopReason.Unsupported));
        Assert.That(rig.Cpu.Diagnostic, Does.Contain("MMX form of Psrlw"));
        Assert.That(rig.Cpu.InstructionPointer, Is.EqualTo(TestRig.CodeBase + 5), "the XMM form ran; RIP stays on the MMX form");
    }

    [Test]
    public void FetchOutsideRamStopsWithTheAddress()
    {
        using var rig = new TestRig();   // 64 MiB of RAM; the identity map covers 1 GiB
        rig.Load(a => { a.mov(rax, 0x3000_0000); a.jmp(rax); });
        Assert.That(rig.Cpu.Run(100), Is.EqualTo(StopReason.Unsupported));
        Assert.That(rig.Cpu.Diagnostic, Does.Contain("0x30000000").And.Contain("neither RAM nor ROM"));
        Assert.That(rig.Cpu.InstructionCount, Is.EqualTo(2UL));
    }
}
