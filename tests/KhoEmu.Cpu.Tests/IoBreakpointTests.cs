using KhoEmu.Cpu.State;
using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Cpu.Tests;

/// <summary>
/// I/O breakpoints (SDM vol. 3, 17.2.4-17.2.5): DR7 R/W = 10b with CR4.DE = 1 breaks on IN/OUT/INS/OUTS whose port
/// range overlaps DRn aligned down to LEN (1, 2, 8, 4 bytes for LEN 00, 01, 10, 11); the #DB is a trap (RIP after the
/// instruction, DR6.Bn set), RF does not suppress it (RF is for instruction breakpoints, 17.3.1.1), and with TF set the
/// same #DB also reports the single step (DR6.BS, 17.2.3). Expected values are the SDM's.
/// </summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class IoBreakpointTests
{
    private const ulong Handler = TestRig.CodeBase + 0x800, Other = TestRig.CodeBase + 0x900, Target = TestRig.CodeBase + 0x400;
    private const ulong Rf = Rflags.RF, Tf = Rflags.TF;
    private const ulong B0 = 1, Bs = 1 << 14;

    /// <summary>The #DB handler keeps RCX in R13, stores the saved RIP in RAX, DR6 in RBX, the saved RFLAGS in RCX,
    /// counts in R12 and halts; #UD/#GP set R15 = 0xBAD.</summary>
    private static TestRig Rig()
    {
        var rig = new TestRig();
        rig.SetGate(Vector.DB, Handler);
        rig.Load(a => { a.mov(r13, rcx); a.mov(rax, __qword_ptr[rsp]); a.mov(rbx, dr6); a.mov(rcx, __qword_ptr[rsp + 16]); a.inc(r12); a.hlt(); }, Handler);
        rig.SetGate(Vector.UD, Other);
        rig.SetGate(Vector.GP, Other);
        rig.Load(a => { a.mov(r15, 0xBAD); a.hlt(); }, Other);
        return rig;
    }

    /// <summary>DR7 with L0, R/W0 = 10b and LEN0 for a breakpoint of <paramref name="length"/> bytes.</summary>
    private static uint Dr7Io(int length) => 1u | (2u << 16) | ((uint)(length switch { 1 => 0, 2 => 1, 8 => 2, _ => 3 }) << 18);

    /// <summary>Arms DR0 = <paramref name="port"/> as an I/O breakpoint (CR4.DE set unless told otherwise).</summary>
    private static void Arm(Iced.Intel.Assembler a, ulong port, int length, bool de = true)
    {
        if (de) { a.mov(rax, cr4); a.or(rax, 1 << 3); a.mov(cr4, rax); }
        a.mov(rax, port); a.mov(dr0, rax);
        a.mov(eax, Dr7Io(length)); a.mov(dr7, rax);
    }

    /// <summary>Runs and returns whether the #DB came, checking it came as a trap right after the I/O instruction at
    /// <see cref="Target"/> of <paramref name="insnLength"/> bytes (which the code after it, setting R14, never reached).</summary>
    private static bool Trapped(TestRig rig, int insnLength)
    {
        rig.Cpu.Run(200);
        Assert.That(rig.Cpu.GetGpr(15), Is.Zero, "no #UD/#GP: " + rig.Cpu.Diagnostic);
        if (rig.Cpu.GetGpr(12) == 0)
        {
            Assert.That(rig.Cpu.GetGpr(14), Is.EqualTo(1UL), "without a #DB the code after the I/O instruction runs");
            return false;
        }
        Assert.That(rig.Cpu.GetGpr(12), Is.EqualTo(1UL), "one #DB");
        Assert.That(rig.Cpu.GetGpr(Cpu.RAX), Is.EqualTo(Target + (ulong)insnLength), "a trap: RIP of the next instruction");
        Assert.That(rig.Cpu.GetGpr(14), Is.Zero);
        return true;
    }

    private static void Program(TestRig rig, Action<Iced.Intel.Assembler> arm, Action<Iced.Intel.Assembler> io)
    {
        rig.Load(a => { io(a); a.mov(r14, 1); a.hlt(); }, Target);
        rig.Load(a => { arm(a); a.mov(edx, 0); a.mov(rax, Target); a.jmp(rax); });
    }

    // (DR0, LEN, port, access size, IN?) → hit: the ranges overlap after DR0 is aligned down to LEN.
    [TestCase(0x80u, 1, 0x80, 1, false, true)]
    [TestCase(0x80u, 1, 0x81, 1, false, false)]
    [TestCase(0x80u, 1, 0x7F, 2, false, true)]    // a word write to 7Fh covers 80h
    [TestCase(0x86u, 2, 0x85, 2, false, true)]    // 85h-86h overlaps 86h-87h
    [TestCase(0x87u, 2, 0x85, 1, true, false)]    // DR0 87h with LEN 2 is 86h-87h
    [TestCase(0x87u, 2, 0x86, 1, true, true)]
    [TestCase(0x84u, 4, 0x87, 1, false, true)]
    [TestCase(0x85u, 4, 0x88, 4, true, false)]    // 84h-87h, not 88h-8Bh
    [TestCase(0x85u, 4, 0x84, 4, true, true)]
    [TestCase(0x80u, 8, 0x84, 4, true, true)]     // 80h-87h
    [TestCase(0x83u, 8, 0x88, 2, false, false)]
    [TestCase(0x83u, 8, 0x7E, 4, true, true)]     // 7Eh-81h overlaps 80h-87h
    public void InAndOutTrapOnOverlappingPorts(uint address, int length, int port, int size, bool input, bool hit)
    {
        using var rig = Rig();
        Program(rig, a => Arm(a, address, length), a =>
        {
            a.mov(dx, (ushort)port);
            if (input) { if (size == 1) a.@in(al, dx); else if (size == 2) a.@in(ax, dx); else a.@in(eax, dx); }
            else if (size == 1) a.@out(dx, al); else if (size == 2) a.@out(dx, ax); else a.@out(dx, eax);
        });
        // mov dx, imm16 is 4 bytes; IN/OUT with DX 1 byte (2 with the operand-size prefix).
        bool trapped = Trapped(rig, 4 + (size == 2 ? 2 : 1));
        Assert.That(trapped, Is.EqualTo(hit));
        if (hit) Assert.That(rig.Cpu.GetGpr(Cpu.RBX) & 0xF, Is.EqualTo(B0), "DR6.B0");
    }

    [Test]
    public void OutWithAnImmediatePortTraps()
    {
        using var rig = Rig();
        Program(rig, a => Arm(a, 0x80, 1), a => a.@out(0x80, al));
        Assert.That(Trapped(rig, 2), Is.True);
        Assert.That(rig.Cpu.GetGpr(Cpu.RBX) & (0xF | Bs), Is.EqualTo(B0));
    }

    [Test]
    public void ADisabledBreakpointDoesNotTrap()
    {
        using var rig = Rig();
        Program(rig, a => { Arm(a, 0x80, 1); a.mov(eax, 2u << 16); a.mov(dr7, rax); }, a => a.@out(0x80, al)); // R/W0 = 10b, L0 = G0 = 0
        Assert.That(Trapped(rig, 2), Is.False);
    }

    /// <summary>CR4.DE = 0 makes R/W = 10b undefined (17.2.4); QEMU's TCG checks the ports anyway, and so does KhoEmu.</summary>
    [Test]
    public void WithCr4DeClearTheBreakpointWorksAsOnQemu()
    {
        using var rig = Rig();
        Program(rig, a => Arm(a, 0x80, 1, de: false), a => a.@out(0x80, al));
        Assert.That(Trapped(rig, 2), Is.True);
    }

    /// <summary>With TF set, the I/O breakpoint and the single step are reported by one #DB (DR6.B0 and BS).</summary>
    [Test]
    public void WithTfOneDebugExceptionReportsBothConditions()
    {
        using var rig2 = Rig();
        rig2.Load(a => { a.@out(0x80, al); a.mov(r14, 1); a.hlt(); }, Target);
        rig2.Load(a =>
        {
            Arm(a, 0x80, 1);
            a.mov(rax, rsp);
            a.push(0x10); a.push(rax); a.pushfq(); a.or(__qword_ptr[rsp], (int)Tf); a.push(0x08);
            a.mov(rax, Target); a.push(rax); a.iretq();
        });
        Assert.That(Trapped(rig2, 2), Is.True);
        Assert.That(rig2.Cpu.GetGpr(Cpu.RBX) & (0xF | Bs), Is.EqualTo(B0 | Bs), "DR6.B0 and DR6.BS in one #DB");
    }

    /// <summary>RF suppresses instruction breakpoints only: an OUT entered by IRET with RF set still traps, and the
    /// trap frame has RF clear (the OUT completed, which clears RF).</summary>
    [Test]
    public void RfDoesNotSuppressAnIoBreakpoint()
    {
        using var rig = Rig();
        rig.Load(a => { a.@out(0x80, al); a.mov(r14, 1); a.hlt(); }, Target);
        rig.Load(a =>
        {
            Arm(a, 0x80, 1);
            a.mov(rax, rsp);
            a.push(0x10); a.push(rax); a.pushfq(); a.or(__qword_ptr[rsp], (int)Rf); a.push(0x08);
            a.mov(rax, Target); a.push(rax); a.iretq();
        });
        Assert.That(Trapped(rig, 2), Is.True);
        Assert.That(rig.Cpu.GetGpr(Cpu.RCX) & Rf, Is.Zero, "RF clear in the trap frame");
    }

    /// <summary>A REP OUTSB traps after the iteration that hit (17.3.1.2 for repeated string instructions): RIP is the
    /// string instruction again, RCX one less, RSI one further, so it goes on after the handler.</summary>
    [Test]
    public void RepOutsbTrapsAfterTheFirstIteration()
    {
        using var rig = Rig();
        rig.Load(a => { a.rep.outsb(); a.mov(r14, 1); a.hlt(); }, Target);
        rig.Load(a =>
        {
            Arm(a, 0x80, 1);
            a.mov(edx, 0x80); a.mov(ecx, 5); a.mov(rsi, TestRig.DataBase);
            a.mov(rax, Target); a.jmp(rax);
        });
        rig.Cpu.Run(200);
        Assert.That(rig.Cpu.GetGpr(12), Is.EqualTo(1UL), rig.Cpu.Diagnostic);
        Assert.That(rig.Cpu.GetGpr(Cpu.RAX), Is.EqualTo(Target), "RIP of the REP OUTSB");
        Assert.That(rig.Cpu.GetGpr(13) & 0xFFFF_FFFF, Is.EqualTo(4UL), "one iteration done");
        Assert.That(rig.Cpu.GetGpr(Cpu.RSI), Is.EqualTo(TestRig.DataBase + 1));
        Assert.That(rig.Cpu.GetGpr(Cpu.RBX) & 0xF, Is.EqualTo(B0));
    }

    /// <summary>OUTSB/OUTSW/OUTSD move one element of their size per iteration (SDM vol. 2B, OUTS): RSI steps by it.</summary>
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(4)]
    public void RepOutsStepsRsiByTheElementSize(int size)
    {
        using var rig = Rig();
        rig.Load(a => { if (size == 1) a.rep.outsb(); else if (size == 2) a.rep.outsw(); else a.rep.outsd(); a.mov(r14, 1); a.hlt(); }, Target);
        rig.Load(a => { a.mov(edx, 0x80); a.mov(ecx, 3); a.mov(rsi, TestRig.DataBase); a.mov(rax, Target); a.jmp(rax); });
        rig.Cpu.Run(200);
        Assert.That(rig.Cpu.GetGpr(14), Is.EqualTo(1UL), rig.Cpu.Diagnostic);
        Assert.That(rig.Cpu.GetGpr(Cpu.RSI), Is.EqualTo(TestRig.DataBase + 3 * (ulong)size));
        Assert.That(rig.Cpu.GetGpr(Cpu.RCX), Is.Zero);
    }

    [Test]
    public void EveryModelAdvertisesDe()
    {
        foreach (var m in CpuModels.All)
            Assert.That(m.Query(1, 0).Edx & (1u << 2), Is.Not.Zero, $"{m.Name}: CPUID.1:EDX.DE");
    }
}
