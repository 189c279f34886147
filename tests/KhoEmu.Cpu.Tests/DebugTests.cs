using KhoEmu.Cpu.State;
using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Cpu.Tests;

/// <summary>
/// Debug registers and debug exceptions (SDM vol. 3, chapter 18): DR4/DR5 aliasing (18.2.2), the fixed bits of DR6
/// and DR7 (18.2.3-18.2.4), single-step traps (18.3.1.4) and their MOV SS blocking (6.8.3), RF in fault frames and
/// after IRET (18.3.1.1), instruction and data breakpoints (18.3.1.1-18.3.1.2).
/// </summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class DebugTests
{
    private const ulong Handler = TestRig.CodeBase + 0x800, Other = TestRig.CodeBase + 0x900;
    private const ulong Rf = Rflags.RF, Tf = Rflags.TF;

    /// <summary>A rig whose #DB handler stores the saved RIP in RAX, DR6 in RBX, the saved RFLAGS in RCX, counts in
    /// R12 and halts; #UD/#GP go to a handler setting R15 = 0xBAD.</summary>
    private static TestRig DebugRig()
    {
        var rig = new TestRig();
        rig.SetGate(Vector.DB, Handler);
        rig.Load(a =>
        {
            a.mov(rax, __qword_ptr[rsp]); a.mov(rbx, dr6); a.mov(rcx, __qword_ptr[rsp + 16]); a.inc(r12);
            a.pushfq(); a.pop(r13); a.hlt();
        }, Handler);
        rig.SetGate(Vector.UD, Other);
        rig.SetGate(Vector.GP, Other);
        rig.Load(a => { a.mov(r15, 0xBAD); a.hlt(); }, Other);
        return rig;
    }

    [Test]
    public void Dr4AndDr5AliasDr6AndDr7WhenCr4DeIsClear()
    {
        using var rig = DebugRig();
        rig.Load(a =>
        {
            a.xor(eax, eax); a.mov(dr4, rax); a.mov(rbx, dr6);
            a.mov(eax, 0x100); a.mov(dr5, rax); a.mov(rcx, dr7); a.mov(rdx, dr5); a.mov(rsi, dr4);
        });
        Assert.That(rig.Cpu.Run(8), Is.EqualTo(StopReason.InstructionLimit), rig.Cpu.Diagnostic);
        Assert.That(rig.Cpu.GetGpr(15), Is.Zero);
        Assert.That(rig.Cpu.GetGpr(Cpu.RBX), Is.EqualTo(0xFFFF_0FF0UL), "DR4 wrote DR6");
        Assert.That(rig.Cpu.GetGpr(Cpu.RCX), Is.EqualTo(0x500UL), "DR5 wrote DR7");
        Assert.That(rig.Cpu.GetGpr(Cpu.RDX), Is.EqualTo(0x500UL), "DR5 reads DR7");
        Assert.That(rig.Cpu.GetGpr(Cpu.RSI), Is.EqualTo(0xFFFF_0FF0UL), "DR4 reads DR6");
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Dr4AndDr5AreUndefinedWithCr4De(bool write)
    {
        using var rig = DebugRig();
        rig.Load(a =>
        {
            a.mov(rax, cr4); a.or(rax, 1 << 3); a.mov(cr4, rax);
            if (write) a.mov(dr5, rax); else a.mov(rax, dr4);
            a.mov(r14, 1);
        });
        rig.Cpu.Run(6);
        Assert.That(rig.Cpu.GetGpr(15), Is.EqualTo(0xBAD), "#UD");
        Assert.That(rig.Cpu.GetGpr(14), Is.Zero);
    }

    [Test]
    public void Dr6AndDr7HaveTheirFixedBits()
    {
        using var rig = DebugRig();
        rig.Load(a =>
        {
            a.mov(eax, 0xFFFF_FFFF); a.mov(dr6, rax); a.mov(rbx, dr6);
            a.mov(eax, 0xFFFF_DFFF); a.mov(dr7, rax); a.mov(rcx, dr7);
            a.xor(eax, eax); a.mov(dr6, rax); a.mov(dr7, rax); a.mov(rdx, dr6); a.mov(rsi, dr7);
        });
        Assert.That(rig.Cpu.Run(12), Is.EqualTo(StopReason.InstructionLimit), rig.Cpu.Diagnostic);
        Assert.That(rig.Cpu.GetGpr(Cpu.RBX), Is.EqualTo(0xFFFF_EFFFUL), "DR6 bit 12 reads 0");
        Assert.That(rig.Cpu.GetGpr(Cpu.RCX), Is.EqualTo(0xFFFF_07FFUL), "DR7 bits 11, 12, 14, 15 read 0, bit 10 reads 1");
        Assert.That(rig.Cpu.GetGpr(Cpu.RDX), Is.EqualTo(0xFFFF_0FF0UL));
        Assert.That(rig.Cpu.GetGpr(Cpu.RSI), Is.EqualTo(0x400UL));
    }

    [TestCase(6)]
    [TestCase(7)]
    public void UpperHalfOfDr6AndDr7IsReserved(int dr)
    {
        using var rig = DebugRig();
        rig.Load(a =>
        {
            a.mov(rax, 1UL << 32);
            if (dr == 6) a.mov(dr6, rax); else a.mov(dr7, rax);
            a.mov(r14, 1);
        });
        rig.Cpu.Run(4);
        Assert.That(rig.Cpu.GetGpr(15), Is.EqualTo(0xBAD), "#GP(0)");
        Assert.That(rig.Cpu.GetGpr(14), Is.Zero);
    }

    /// <summary>Code that sets TF with PUSHFQ / OR [RSP] / POPFQ (1 + 8 + 1 bytes).</summary>
    private static void SetTf(Iced.Intel.Assembler a)
    {
        a.pushfq(); a.or(__qword_ptr[rsp], (int)Tf); a.popfq();
    }

    [Test]
    public void SingleStepTrapsAfterTheFirstInstructionExecutedWithTf()
    {
        using var rig = DebugRig();
        // pushfq (1), or qword [rsp], 0x100 (8), popfq (1) at +9, nop at +10, nop at +11.
        rig.Load(a => { SetTf(a); a.nop(); a.nop(); a.hlt(); });
        rig.Cpu.Run(50);
        Assert.That(rig.Cpu.GetGpr(12), Is.EqualTo(1UL), rig.Cpu.Diagnostic);
        Assert.That(rig.Cpu.GetGpr(Cpu.RAX), Is.EqualTo(TestRig.CodeBase + 11), "trap: RIP after the first NOP; none after POPF");
        Assert.That(rig.Cpu.GetGpr(Cpu.RBX) & (1 << 14), Is.Not.Zero, "DR6.BS");
        Assert.That(rig.Cpu.GetGpr(Cpu.RCX) & Tf, Is.Not.Zero, "saved RFLAGS has TF");
        Assert.That(rig.Cpu.GetGpr(13) & Tf, Is.Zero, "the handler runs with TF clear");
    }

    [Test]
    public void MovSsDelaysTheSingleStepTrapByOneInstruction()
    {
        using var rig = DebugRig();
        rig.Load(a => { a.mov(eax, 0x10); SetTf(a); a.mov(ss, eax); a.nop(); a.nop(); a.hlt(); });
        rig.Cpu.Run(50);
        // mov eax (5), pushfq (1), or (8), popfq (1) → MOV SS (8E D0) at +15 runs with TF; its trap waits for the
        // NOP at +17 and is taken with RIP +18.
        Assert.That(rig.Cpu.GetGpr(12), Is.EqualTo(1UL), rig.Cpu.Diagnostic);
        Assert.That(rig.Cpu.GetGpr(Cpu.RAX), Is.EqualTo(TestRig.CodeBase + 18), "the trap after MOV SS waits for the NOP");
        Assert.That(rig.Cpu.GetGpr(Cpu.RBX) & (1 << 14), Is.Not.Zero, "DR6.BS");
    }

    [Test]
    public void IntNWithTfDeliversTheInterruptWithoutASingleStepTrap()
    {
        using var rig = DebugRig();
        rig.SetGate(0x60, TestRig.CodeBase + 0xA00);
        rig.Load(a => { a.mov(rdx, __qword_ptr[rsp + 16]); a.pushfq(); a.pop(rdi); a.mov(r14, 0x60); a.hlt(); }, TestRig.CodeBase + 0xA00);
        rig.Load(a => { SetTf(a); a.@int(0x60); a.hlt(); });
        rig.Cpu.Run(50);
        Assert.That(rig.Cpu.GetGpr(14), Is.EqualTo(0x60UL), rig.Cpu.Diagnostic);
        Assert.That(rig.Cpu.GetGpr(12), Is.Zero, "no #DB before the handler's first instruction");
        Assert.That(rig.Cpu.GetGpr(Cpu.RDX) & Tf, Is.Not.Zero, "the frame keeps TF");
        Assert.That(rig.Cpu.GetGpr(Cpu.RDI) & Tf, Is.Zero, "the handler runs with TF clear");
    }

    [TestCase(Vector.GP, TestName = "#GP pushes RFLAGS with RF = 1")]
    [TestCase(Vector.UD, TestName = "#UD pushes RFLAGS with RF = 1")]
    [TestCase(Vector.PF, TestName = "#PF pushes RFLAGS with RF = 1")]
    [TestCase(Vector.BP, TestName = "INT3 (a trap) pushes RFLAGS with RF = 0")]
    public void FaultFramesHaveRfSet(int vector)
    {
        using var rig = new TestRig();
        bool error = Vector.HasErrorCode(vector);
        rig.SetGate(vector, Handler);
        rig.Load(a => { a.mov(rcx, __qword_ptr[rsp + (error ? 24 : 16)]); a.mov(r15, vector); a.hlt(); }, Handler);
        rig.Load(a =>
        {
            switch (vector)
            {
                case Vector.GP: a.mov(rsi, 0x0000_8000_0000_0000UL); a.mov(rax, __qword_ptr[rsi]); break;
                case Vector.UD: a.ud2(); break;
                case Vector.PF: a.mov(rsi, 0x7F_0000_0000UL); a.mov(rax, __qword_ptr[rsi]); break;
                default: a.int3(); break;
            }
            a.hlt();
        });
        rig.Cpu.Run(20);
        Assert.That(rig.Cpu.GetGpr(15), Is.EqualTo((ulong)vector), rig.Cpu.Diagnostic);
        Assert.That(rig.Cpu.GetGpr(Cpu.RCX) & Rf, Is.EqualTo(vector == Vector.BP ? 0 : Rf));
    }

    [Test]
    public void InstructionBreakpointFaultsAndIretWithRfResumes()
    {
        using var rig = new TestRig();
        const ulong target = TestRig.CodeBase + 0x40;
        rig.SetGate(Vector.DB, Handler);
        // Count, record RIP and DR6, set RF in the frame, return.
        rig.Load(a =>
        {
            a.inc(r12); a.mov(rax, __qword_ptr[rsp]); a.mov(rbx, dr6);
            a.or(__qword_ptr[rsp + 16], (int)Rf); a.iretq();
        }, Handler);
        rig.Load(a => { a.mov(ecx, 5); a.mov(r14, 1); a.hlt(); }, target);
        rig.Load(a =>
        {
            a.mov(rax, target); a.mov(dr0, rax);
            a.mov(eax, 0x1); a.mov(dr7, rax); // L0, RW0 = 00 (execute), LEN0 = 00
            a.mov(rax, target); a.jmp(rax);
        });
        rig.Cpu.Run(100);
        Assert.That(rig.Cpu.GetGpr(14), Is.EqualTo(1UL), "the breakpointed instruction ran after IRET with RF: " + rig.Cpu.Diagnostic);
        Assert.That(rig.Cpu.GetGpr(12), Is.EqualTo(1UL), "one #DB: RF suppressed the second");
        Assert.That(rig.Cpu.GetGpr(Cpu.RAX), Is.EqualTo(target), "fault: RIP of the breakpointed instruction");
        Assert.That(rig.Cpu.GetGpr(Cpu.RBX) & 0xF, Is.EqualTo(1UL), "DR6.B0");
        Assert.That(rig.Cpu.GetGpr(Cpu.RCX), Is.EqualTo(5UL));
    }

    [TestCase(true, TestName = "Data breakpoint on writes traps after the writing instruction")]
    [TestCase(false, TestName = "Data breakpoint on writes ignores reads")]
    public void DataBreakpointTrapsAfterTheAccess(bool write)
    {
        using var rig = DebugRig();
        rig.Load(a =>
        {
            a.mov(rax, TestRig.DataBase + 8); a.mov(dr1, rax);
            a.mov(eax, (1 << 2) | (0b01 << 20) | (0b11 << 22)); a.mov(dr7, rax); // L1, write, 4 bytes
            a.mov(rsi, TestRig.DataBase);
            a.mov(__dword_ptr[rsi], eax);                                // no hit
            if (write) a.mov(__word_ptr[rsi + 10], ax); else a.mov(ax, __word_ptr[rsi + 10]);
            a.nop();
            a.hlt();
        });
        rig.Cpu.Run(50);
        if (!write)
        {
            Assert.That(rig.Cpu.GetGpr(12), Is.Zero, rig.Cpu.Diagnostic);
            return;
        }
        Assert.That(rig.Cpu.GetGpr(12), Is.EqualTo(1UL), rig.Cpu.Diagnostic);
        Assert.That(rig.Cpu.GetGpr(Cpu.RBX) & 0xF, Is.EqualTo(2UL), "DR6.B1");
        // mov rax, imm64 (10), mov dr1 (3), mov eax (5), mov dr7 (3), mov rsi (10), mov [rsi] (2), mov [rsi+10] (4).
        Assert.That(rig.Cpu.GetGpr(Cpu.RAX), Is.EqualTo(TestRig.CodeBase + 37), "trap: RIP after the write");
    }

    [Test]
    public void GeneralDetectFaultsOnTheNextDebugRegisterAccess()
    {
        using var rig = DebugRig();
        rig.Load(a => { a.mov(eax, 1 << 13); a.mov(dr7, rax); a.mov(rdx, dr0); a.hlt(); });
        rig.Cpu.Run(20);
        Assert.That(rig.Cpu.GetGpr(12), Is.EqualTo(1UL), rig.Cpu.Diagnostic);
        Assert.That(rig.Cpu.GetGpr(Cpu.RAX), Is.EqualTo(TestRig.CodeBase + 8), "fault on the MOV from DR0");
        Assert.That(rig.Cpu.GetGpr(Cpu.RBX) & (1 << 13), Is.Not.Zero, "DR6.BD");
    }
}
