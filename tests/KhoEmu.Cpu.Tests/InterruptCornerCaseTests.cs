using Iced.Intel;
using KhoEmu.Cpu.State;
using KhoEmu.Devices.Interrupts;
using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Cpu.Tests;

/// <summary>
/// LEAVE's operand size, the STI and MOV SS interrupt shadows (SDM vol. 3, 6.8.3 and table 25-3), faults raised
/// while delivering INT n/INT3/INTO (SDM vol. 3, 6.12: they are faults on the INT instruction) and NMIs sent to the
/// processor itself through the local APIC's ICR (SDM vol. 3, 11.6.1).
/// </summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class InterruptCornerCaseTests
{
    private const ulong Handler = TestRig.CodeBase + 0x800, Handler2 = TestRig.CodeBase + 0x900;

    private static void Real(TestRig rig, byte[] code)
    {
        var cpu = rig.Cpu;
        cpu.SetControlRegisters(ControlBits.Cr0ET, 0, 0, 0);
        cpu.LoadSegment(SegReg.CS, SegmentCache.RealMode(0x1000));
        foreach (int s in new[] { SegReg.DS, SegReg.ES, SegReg.SS }) cpu.LoadSegment(s, SegmentCache.RealMode(0x2000));
        rig.Memory.Write(0x10100, code);
        cpu.InstructionPointer = 0x100;
    }

    [Test]
    public void LeaveWithOperandSizePrefixIn16BitCodePopsFourBytes()
    {
        using var rig = new TestRig();
        Real(rig, [0x66, 0xC9, 0xC9]); // LEAVE (32-bit operand), then LEAVE (16-bit operand)
        rig.Memory.WritePhys(0x20100, 4, 0x1234_0200);
        rig.Memory.WritePhys(0x20200, 2, 0x0300);
        rig.Cpu.SetGpr(Cpu.RBP, 0xAAAA_0100);
        rig.Cpu.SetGpr(Cpu.RSP, 0x5555_0F00);
        Assert.That(rig.Cpu.Run(1), Is.EqualTo(StopReason.InstructionLimit), rig.Cpu.Diagnostic);
        Assert.That(rig.Cpu.GetGpr(Cpu.RBP), Is.EqualTo(0x1234_0200), "66 C9 pops a doubleword into EBP");
        Assert.That(rig.Cpu.GetGpr(Cpu.RSP), Is.EqualTo(0x5555_0104), "SP = BP + 4 (16-bit stack: only SP changes)");
        Assert.That(rig.Cpu.Run(1), Is.EqualTo(StopReason.InstructionLimit), rig.Cpu.Diagnostic);
        Assert.That(rig.Cpu.GetGpr(Cpu.RBP), Is.EqualTo(0x1234_0300), "C9 pops a word into BP");
        Assert.That(rig.Cpu.GetGpr(Cpu.RSP), Is.EqualTo(0x5555_0202));
    }

    [TestCase(32, new byte[] { 0x66, 0xC9 }, 2, TestName = "LEAVE 66 C9 in 32-bit code pops 2 bytes")]
    [TestCase(32, new byte[] { 0xC9 }, 4, TestName = "LEAVE C9 in 32-bit code pops 4 bytes")]
    [TestCase(64, new byte[] { 0x66, 0xC9 }, 2, TestName = "LEAVE 66 C9 in 64-bit code pops 2 bytes")]
    [TestCase(64, new byte[] { 0xC9 }, 8, TestName = "LEAVE C9 in 64-bit code pops 8 bytes")]
    public void LeavePopsTheOperandSize(int bitness, byte[] code, int popped)
    {
        using var r = new DescriptorRig(bitness, 0);
        r.Rig.Memory.Write(TestRig.CodeBase, code);
        r.Cpu.InstructionPointer = TestRig.CodeBase;
        r.Rig.W64(TestRig.DataBase, 0x1122_3344_5566_7788);
        r.Cpu.SetGpr(Cpu.RBP, TestRig.DataBase);
        r.Cpu.SetGpr(Cpu.RSP, 0x1234);
        Assert.That(r.Cpu.Run(1), Is.EqualTo(StopReason.InstructionLimit), r.Cpu.Diagnostic);
        Assert.That(r.Cpu.GetGpr(Cpu.RSP), Is.EqualTo(TestRig.DataBase + (ulong)popped));
        ulong expect = popped switch
        {
            2 => (TestRig.DataBase & ~0xFFFFUL) | 0x7788,
            4 => 0x5566_7788,
            _ => 0x1122_3344_5566_7788,
        };
        Assert.That(r.Cpu.GetGpr(Cpu.RBP), Is.EqualTo(expect));
    }

    /// <summary>A rig whose vector-0x40 handler stores the interrupted RIP in RAX and halts.</summary>
    private static TestRig ShadowRig(Func<TestRig, Func<bool>> pending, Action<Assembler> code)
    {
        var rig = new TestRig();
        rig.SetGate(0x40, Handler);
        rig.Load(a => { a.mov(rax, __qword_ptr[rsp]); a.mov(r15, 0x40); a.hlt(); }, Handler);
        rig.Load(code);
        rig.Cpu.Interrupts = new TestInterruptSink(0x40, pending(rig));
        return rig;
    }

    [Test]
    public void StiDelaysAPendingInterruptUntilAfterTheNextInstruction()
    {
        // cli at +0, sti at +1, nop at +2, nop at +3: the interrupt comes after the first nop, RIP +3 saved.
        using var rig = ShadowRig(_ => () => true, a => { a.cli(); a.sti(); a.nop(); a.nop(); a.nop(); a.hlt(); });
        rig.Cpu.Run(50);
        Assert.That(rig.Cpu.GetGpr(15), Is.EqualTo(0x40), rig.Cpu.Diagnostic);
        Assert.That(rig.Cpu.GetGpr(Cpu.RAX), Is.EqualTo(TestRig.CodeBase + 3));
    }

    [Test]
    public void StiInTheMiddleOfABlockStillShadowsOneInstruction()
    {
        using var rig = ShadowRig(_ => () => true, a =>
        {
            a.cli(); a.nop(); a.nop(); a.mov(ebx, 1); a.sti(); a.add(ebx, 1); a.add(ebx, 2); a.hlt();
        });
        rig.Cpu.Run(50);
        Assert.That(rig.Cpu.GetGpr(15), Is.EqualTo(0x40), rig.Cpu.Diagnostic);
        Assert.That(rig.Cpu.GetGpr(Cpu.RBX), Is.EqualTo(2), "exactly one instruction after STI ran");
        Assert.That(rig.Cpu.GetGpr(Cpu.RAX), Is.EqualTo(TestRig.CodeBase + 12), "cli, nop, nop, mov ebx (5), sti, add (3)");
    }

    [Test]
    public void HltRightAfterStiIsWokenByThePendingInterrupt()
    {
        using var rig = ShadowRig(_ => () => true, a => { a.cli(); a.sti(); a.hlt(); a.mov(ebx, 7); a.hlt(); });
        var stop = rig.Cpu.Run(50);
        Assert.That(rig.Cpu.GetGpr(15), Is.EqualTo(0x40), $"{stop}: {rig.Cpu.Diagnostic}");
        Assert.That(rig.Cpu.GetGpr(Cpu.RAX), Is.EqualTo(TestRig.CodeBase + 3), "delivered after the HLT, which ran");
    }

    [Test]
    public void MovSsDelaysAnInterruptUntilAfterTheNextInstruction()
    {
        // The interrupt becomes pending once MOV SS (8E D0 at +5, after a 5-byte MOV EAX) has executed, with IF = 1:
        // the shadow holds it over the NOP at +7; RIP +8 is saved.
        using var rig = ShadowRig(r => () => r.Cpu.InstructionPointer >= TestRig.CodeBase + 7,
            a => { a.mov(eax, 0x10); a.mov(ss, eax); a.nop(); a.nop(); a.nop(); a.hlt(); });
        rig.Cpu.SetRflags(Rflags.Reserved1 | Rflags.IF);
        rig.Cpu.Run(50);
        Assert.That(rig.Cpu.GetGpr(15), Is.EqualTo(0x40), rig.Cpu.Diagnostic);
        Assert.That(rig.Cpu.GetGpr(Cpu.RAX), Is.EqualTo(TestRig.CodeBase + 8));
    }

    [Test]
    public void PopSsDelaysAnInterruptUntilAfterTheNextInstruction()
    {
        // Compatibility mode: PUSH SS (16h) at +0, POP SS (17h) at +1, the interrupt pending from +2 on (IF = 1),
        // held over the NOP at +2: RIP +3 is saved.
        using var d = new DescriptorRig(32, 0);
        var rig = d.Rig;
        rig.SetGate(0x40, Handler);
        rig.Load(a => { a.mov(rax, __qword_ptr[rsp]); a.mov(r15, 0x40); a.hlt(); }, Handler);
        d.Load(a => { a.db(0x16, 0x17); a.nop(); a.nop(); a.nop(); a.hlt(); });
        d.Cpu.SetGpr(Cpu.RSP, TestRig.StackTop);
        d.Cpu.Interrupts = new TestInterruptSink(0x40, () => d.Cpu.InstructionPointer >= TestRig.CodeBase + 2);
        d.Cpu.SetRflags(Rflags.Reserved1 | Rflags.IF);
        d.Cpu.Run(50);
        Assert.That(d.Cpu.GetGpr(15), Is.EqualTo(0x40), d.Cpu.Diagnostic);
        Assert.That(d.Cpu.GetGpr(Cpu.RAX), Is.EqualTo(TestRig.CodeBase + 3));
    }

    /// <summary>Runs <paramref name="code"/> with a handler for <paramref name="faultVector"/> that stores the error
    /// code in RBX and the saved RIP in RAX.</summary>
    private static TestRig FaultRig(int faultVector, Action<TestRig> setup, Action<Assembler> code, DescriptorRig? d = null)
    {
        var rig = d?.Rig ?? new TestRig();
        rig.SetGate(faultVector, Handler);
        rig.Load(a => { a.pop(rbx); a.mov(rax, __qword_ptr[rsp]); a.mov(r15, faultVector); a.hlt(); }, Handler);
        setup(rig);
        if (d is null) rig.Load(code);
        else d.Load(code);
        return rig;
    }

    [Test]
    public void NotPresentGateDuringIntNPushesTheIntInstruction()
    {
        using var rig = FaultRig(Vector.NP, r =>
        {
            r.SetGate(0x50, Handler2);
            r.W64(TestRig.IdtBase + 0x50 * 16, r.R64(TestRig.IdtBase + 0x50 * 16) & ~(1UL << 47)); // P = 0
        }, a => { a.nop(); a.@int(0x50); a.hlt(); });
        rig.Cpu.Run(50);
        Assert.That(rig.Cpu.GetGpr(15), Is.EqualTo(Vector.NP), rig.Cpu.Diagnostic);
        Assert.That(rig.Cpu.GetGpr(Cpu.RBX), Is.EqualTo(0x50 * 8 + 2), "IDT bit set, EXT clear");
        Assert.That(rig.Cpu.GetGpr(Cpu.RAX), Is.EqualTo(TestRig.CodeBase + 1), "the RIP of INT 50h, not the next one");
    }

    [TestCase(false, TestName = "INT3 at CPL 3 through a DPL-0 gate: #GP on the INT3")]
    [TestCase(true, TestName = "INTO at CPL 3 through a DPL-0 gate: #GP on the INTO")]
    public void GateDplViolationFaultsOnTheInstruction(bool into)
    {
        using var d = new DescriptorRig(into ? 32 : 64, 3);
        FaultRig(Vector.GP, r =>
        {
            r.SetGate(Vector.BP, Handler2);
            r.SetGate(Vector.OF, Handler2);
        }, a => { }, d);
        LegacyInstructionTests.SetRsp0(d, 0x70_0000);
        d.Load(a =>
        {
            a.nop();
            if (into) { a.mov(eax, 0x7FFF_FFFF); a.db(0x83, 0xC0, 0x01); a.into(); } // add eax, 1 (3 bytes): OF = 1
            else a.int3();
            a.hlt();
        });
        d.Cpu.Run(50);
        Assert.That(d.Cpu.GetGpr(15), Is.EqualTo(Vector.GP), d.Cpu.Diagnostic);
        int v = into ? Vector.OF : Vector.BP;
        Assert.That(d.Cpu.GetGpr(Cpu.RBX), Is.EqualTo((ulong)(v * 8 + 2)));
        Assert.That(d.Cpu.GetGpr(Cpu.RAX), Is.EqualTo(TestRig.CodeBase + (into ? 9UL : 1UL)));
    }

    [TestCase(1u << 18, TestName = "Self-NMI through the ICR with the self shorthand")]
    [TestCase(0u, TestName = "Self-NMI through the ICR addressed to the APIC's own ID")]
    public void SelfNmiThroughTheIcrIsDelivered(uint shorthand)
    {
        using var rig = new TestRig();
        var apic = new LocalApic(rig.Clock);
        rig.Memory.Mmio.Register(0xFEE0_0000, 0x1000, apic, "local-apic");
        rig.W64(0x10_1000 + 3 * 8, 0xC000_0000 | 0x83); // 1 GiB page for 3-4 GiB: the APIC page
        rig.Cpu.Interrupts = new InterruptRouter(apic, new Pic8259());
        rig.SetGate(Vector.NMI, Handler);
        rig.Load(a => { a.mov(rax, __qword_ptr[rsp]); a.mov(r15, 2); a.hlt(); }, Handler);
        rig.Load(a =>
        {
            a.cli();
            a.mov(rdi, 0xFEE0_0000);
            a.mov(__dword_ptr[rdi + 0x310], 0);                      // destination APIC ID 0
            a.mov(__dword_ptr[rdi + 0x300], (int)(0x400 | shorthand)); // delivery mode NMI
            a.nop();
            a.hlt();
        });
        rig.Cpu.Run(100);
        Assert.That(rig.Cpu.GetGpr(15), Is.EqualTo(2), "NMI handler ran (IF = 0 does not mask NMIs): " + rig.Cpu.Diagnostic);
    }

    [Test]
    public void NmisAreBlockedUntilIret()
    {
        using var rig = new TestRig();
        var apic = new LocalApic(rig.Clock);
        rig.Memory.Mmio.Register(0xFEE0_0000, 0x1000, apic, "local-apic");
        rig.W64(0x10_1000 + 3 * 8, 0xC000_0000 | 0x83);
        rig.Cpu.Interrupts = new InterruptRouter(apic, new Pic8259());
        rig.SetGate(Vector.NMI, Handler);
        // The handler counts in R14, sends itself another NMI (blocked until IRET), then returns.
        rig.Load(a =>
        {
            var done = a.CreateLabel();
            a.inc(r14);
            a.cmp(r14, 2);
            a.jae(done);
            a.mov(__dword_ptr[rdi + 0x300], 0x400 | (1 << 18));
            a.nop();
            a.mov(r13, r14); // still 1: the second NMI waits for IRET
            a.Label(ref done);
            a.iretq();
        }, Handler);
        rig.Load(a => { a.mov(rdi, 0xFEE0_0000); a.mov(__dword_ptr[rdi + 0x300], 0x400 | (1 << 18)); a.nop(); a.nop(); a.hlt(); });
        rig.Cpu.Run(200);
        Assert.That(rig.Cpu.GetGpr(14), Is.EqualTo(2), rig.Cpu.Diagnostic);
        Assert.That(rig.Cpu.GetGpr(13), Is.EqualTo(1));
    }
}
