using Iced.Intel;
using KhoEmu.Core;
using KhoEmu.Cpu.State;
using KhoEmu.Cpu.X87;
using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Cpu.Tests;

/// <summary>x87 register stack, tags, stack faults, control instructions, environment layouts and #NM/#MF.</summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class X87FamilyTests
{
    private const ulong Data = TestRig.DataBase;
    private static readonly Float80 Two = new(0x8000_0000_0000_0000, 0x4000);
    private static readonly Float80 Three = new(0xC000_0000_0000_0000, 0x4000);
    private static readonly Float80 MinusHalf = new(0x8000_0000_0000_0000, 0xBFFE);

    private static TestRig Run(Action<Assembler> body, Action<TestRig>? setup = null)
    {
        var rig = new TestRig();
        setup?.Invoke(rig);
        rig.Load(a => { body(a); a.hlt(); });
        var reason = rig.Cpu.Run(10_000);
        Assert.That(reason, Is.EqualTo(StopReason.HaltedForever), rig.Cpu.Diagnostic);
        return rig;
    }

    private static void Put(TestRig rig, ulong at, Float80 v)
    {
        rig.Memory.WritePhys(at, 8, v.Significand);
        rig.Memory.WritePhys(at + 8, 2, v.SignExponent);
    }

    private static Float80 Get(TestRig rig, ulong at) => new(rig.Memory.ReadPhys(at, 8), (ushort)rig.Memory.ReadPhys(at + 8, 2));

    [Test]
    public void PowerOnStateIsTheSdmResetState()
    {
        using var rig = new TestRig();
        var s = rig.Cpu.X87;
        Assert.That((s.ControlWord, s.StatusWord, s.TagWord), Is.EqualTo(((ushort)0x0040, (ushort)0, (ushort)0x5555)));
        Assert.That(s.Registers[3], Is.EqualTo(Float80.Zero));
    }

    [Test]
    public void FninitThenFnstcwAndFnstswGiveTheInitialisedWords()
    {
        using var rig = Run(a =>
        {
            a.mov(eax, 0xFFFF);
            a.fninit();
            a.fnstcw(__word_ptr[Data]);
            a.fnstsw(ax);
        });
        Assert.That(rig.Memory.ReadPhys(Data, 2), Is.EqualTo(0x037F));
        Assert.That(rig.Cpu.GetGpr(Cpu.RAX) & 0xFFFF, Is.Zero);
        var s = rig.Cpu.X87;
        Assert.That(s.TagWord, Is.EqualTo(0xFFFF));
        Assert.That(s.LastInstructionPointer, Is.Zero);
        Assert.That(s.LastOpcode, Is.Zero);
    }

    [Test]
    public void PushesWrapTopAndTagEachRegister()
    {
        using var rig = Run(a =>
        {
            a.fninit();
            for (int i = 0; i < 3; i++) a.fld(__tword_ptr[Data + (ulong)i * 16]);
        }, r => { Put(r, Data, Float80.Zero); Put(r, Data + 16, Two); Put(r, Data + 32, Float80.PositiveInfinity); });
        var s = rig.Cpu.X87;
        Assert.That(s.Top, Is.EqualTo(5));
        // physical R7 = zero (01), R6 = 2.0 valid (00), R5 = infinity special (10); R0-R4 empty.
        Assert.That(s.TagWord, Is.EqualTo((ushort)((0b01 << 14) | (0b00 << 12) | (0b10 << 10) | 0x3FF)));
        Assert.That(s.St(0), Is.EqualTo(Float80.PositiveInfinity));
        Assert.That(s.St(2), Is.EqualTo(Float80.Zero));
    }

    [Test]
    public void NinthPushOverflowsAndPushesIndefiniteWhenMasked()
    {
        using var rig = Run(a =>
        {
            a.fninit();
            for (int i = 0; i < 9; i++) a.fld(__tword_ptr[Data]);
            a.fnstsw(ax);
        }, r => Put(r, Data, Two));
        var s = rig.Cpu.X87;
        ushort sw = (ushort)rig.Cpu.GetGpr(Cpu.RAX);
        Assert.That(sw & (X87State.StatusIE | X87State.StatusSF | X87State.StatusC1), Is.EqualTo(X87State.StatusIE | X87State.StatusSF | X87State.StatusC1), "IE, SF and C1 = 1 (overflow)");
        Assert.That(sw & X87State.StatusES, Is.Zero, "masked: no error summary");
        Assert.That(s.Top, Is.EqualTo(7), "TOP wrapped from 0 to 7");
        Assert.That(s.St(0), Is.EqualTo(Float80.Indefinite));
        Assert.That(s.TagWord, Is.EqualTo((ushort)(0b10 << 14)), "indefinite is special; the others valid");
    }

    [Test]
    public void PopFromEmptyUnderflowsAndStoresIndefinite()
    {
        using var rig = Run(a =>
        {
            a.fninit();
            a.fstp(__tword_ptr[Data]);
            a.fstp(__qword_ptr[Data + 16]);
            a.fistp(__dword_ptr[Data + 32]);
            a.fnstsw(ax);
        });
        Assert.That(Get(rig, Data), Is.EqualTo(Float80.Indefinite));
        Assert.That(rig.Memory.ReadPhys(Data + 16, 8), Is.EqualTo(0xFFF8_0000_0000_0000UL));
        Assert.That(rig.Memory.ReadPhys(Data + 32, 4), Is.EqualTo(0x8000_0000UL));
        ushort sw = (ushort)rig.Cpu.GetGpr(Cpu.RAX);
        Assert.That(sw & (X87State.StatusIE | X87State.StatusSF | X87State.StatusC1), Is.EqualTo(X87State.StatusIE | X87State.StatusSF), "C1 = 0 (underflow)");
        Assert.That(rig.Cpu.X87.Top, Is.EqualTo(3), "three pops");
    }

    [Test]
    public void UnmaskedUnderflowLeavesMemoryAndStackAlone()
    {
        using var rig = Run(a =>
        {
            a.fninit();
            a.fldcw(__word_ptr[Data + 64]);
            a.fstp(__tword_ptr[Data]);
            a.fnstsw(ax);
        }, r => r.Memory.WritePhys(Data + 64, 2, 0x037E));
        Assert.That(rig.Memory.ReadPhys(Data, 8), Is.Zero);
        ushort sw = (ushort)rig.Cpu.GetGpr(Cpu.RAX);
        Assert.That(sw & 0x80FF, Is.EqualTo(X87State.StatusB | X87State.StatusES | X87State.StatusSF | X87State.StatusIE));
        Assert.That(rig.Cpu.X87.Top, Is.Zero);
    }

    [Test]
    public void FxchSwapsAndFstCopiesRegisters()
    {
        using var rig = Run(a =>
        {
            a.fninit();
            a.fld(__tword_ptr[Data]);       // 2
            a.fld(__tword_ptr[Data + 16]);  // 3 ; ST0=3 ST1=2
            a.fxch(st0, st1);                    // ST0=2 ST1=3
            a.fst(st2);                     // ST2=2 (was empty)
            a.fstp(__tword_ptr[Data + 32]);
        }, r => { Put(r, Data, Two); Put(r, Data + 16, Three); });
        Assert.That(Get(rig, Data + 32), Is.EqualTo(Two));
        var s = rig.Cpu.X87;
        Assert.That(s.St(0), Is.EqualTo(Three));
        Assert.That(s.St(1), Is.EqualTo(Two));
        Assert.That(s.IsEmpty(2), Is.True);
    }

    [Test]
    public void FxchWithEmptyRegisterIsUnderflow()
    {
        using var rig = Run(a => { a.fninit(); a.fld(__tword_ptr[Data]); a.fxch(st0, st3); a.fnstsw(ax); }, r => Put(r, Data, Two));
        var s = rig.Cpu.X87;
        Assert.That(s.St(0), Is.EqualTo(Float80.Indefinite));
        Assert.That(s.St(3), Is.EqualTo(Two));
        Assert.That(rig.Cpu.GetGpr(Cpu.RAX) & 0x41, Is.EqualTo(0x41));
    }

    [Test]
    public void FcmovMovesOnlyWhenTheConditionHolds()
    {
        using var rig = Run(a =>
        {
            a.fninit();
            a.fld(__tword_ptr[Data]);       // ST1 = 2
            a.fld(__tword_ptr[Data + 16]);  // ST0 = 3
            a.mov(eax, 1);
            a.cmp(eax, 2);                  // CF = 1, ZF = 0
            a.fcmovne(st0, st1);            // taken: ST0 = 2
            a.fstp(__tword_ptr[Data + 32]);
            a.fld(__tword_ptr[Data + 16]);  // ST0 = 3, ST1 = 2
            a.fcmove(st0, st1);             // not taken
            a.fstp(__tword_ptr[Data + 48]);
            a.fcmovnb(st0, st0);            // ST0 = 2 again, CF set: not taken, no change
        }, r => { Put(r, Data, Two); Put(r, Data + 16, Three); });
        Assert.That(Get(rig, Data + 32), Is.EqualTo(Two));
        Assert.That(Get(rig, Data + 48), Is.EqualTo(Three));
    }

    [Test]
    public void FcomiWithEmptyOperandSetsUnorderedFlags()
    {
        using var rig = Run(a =>
        {
            a.fninit();
            a.fld(__tword_ptr[Data]);
            a.xor(eax, eax);                // ZF=1 PF=1 CF=0
            a.stc();
            a.fcomi(st0, st4);              // ST4 empty: masked underflow, unordered
            a.pushfq();
            a.pop(rbx);
        }, r => Put(r, Data, Two));
        ulong f = rig.Cpu.GetGpr(Cpu.RBX);
        Assert.That(f & (Rflags.ZF | Rflags.PF | Rflags.CF | Rflags.OF | Rflags.SF | Rflags.AF), Is.EqualTo(Rflags.ZF | Rflags.PF | Rflags.CF));
    }

    [Test]
    public void FfreeFreepIncstpDecstpTouchOnlyTagsAndTop()
    {
        using var rig = Run(a =>
        {
            a.fninit();
            a.fld(__tword_ptr[Data]);
            a.fld(__tword_ptr[Data]);
            a.fld(__tword_ptr[Data]);       // TOP 5, R5-R7 valid
            a.ffree(st1);                   // R6 empty
            a.fincstp();                    // TOP 6
            a.fdecstp();
            a.fdecstp();                    // TOP 4
            a.ffreep(st1);                  // R5 empty, pop: TOP 5
        }, r => Put(r, Data, Two));
        var s = rig.Cpu.X87;
        Assert.That(s.Top, Is.EqualTo(5));
        Assert.That(s.TagWord, Is.EqualTo((ushort)0x3FFF | (0b00 << 14)), "only R7 still valid");
        Assert.That(s.Registers[6], Is.EqualTo(Two), "FFREE keeps the contents");
    }

    [Test]
    public void FnstswAxAndFstswMemoryReportTopAndConditionCodes()
    {
        using var rig = Run(a =>
        {
            a.fninit();
            a.fld(__tword_ptr[Data]);
            a.fxam();                       // normal, positive: C3 C2 C0 = 010, C1 = 0
            a.fstsw(__word_ptr[Data + 32]);
            a.fld(__tword_ptr[Data + 16]);
            a.fxam();                       // negative normal: C1 = 1
            a.fnstsw(ax);
        }, r => { Put(r, Data, Two); Put(r, Data + 16, MinusHalf); });
        Assert.That(rig.Memory.ReadPhys(Data + 32, 2), Is.EqualTo((7 << 11) | X87State.StatusC2));
        Assert.That(rig.Cpu.GetGpr(Cpu.RAX) & 0xFFFF, Is.EqualTo((6 << 11) | X87State.StatusC2 | X87State.StatusC1));
    }

    [Test]
    public void FxamReportsEmpty()
    {
        using var rig = Run(a => { a.fninit(); a.fxam(); a.fnstsw(ax); });
        Assert.That(rig.Cpu.GetGpr(Cpu.RAX) & 0x4700, Is.EqualTo(X87State.StatusC3 | X87State.StatusC0));
    }

    /// <summary>
    /// Linux's boot-time FPU code (arch/x86/kernel/fpu/init.c fpu__init_system_early_generic, bugs.c check_fpu): the
    /// presence probe (FNINIT, FNSTSW, FNSTCW: FSW 0 and FCW & 0x103F = 0x3F) and the Pentium FDIV-bug check
    /// (x - (x / y) * y with x = 4195835, y = 3145727 must be 0).
    /// </summary>
    [Test]
    public void LinuxFpuProbeAndFdivBugCheck()
    {
        using var rig = Run(a =>
        {
            a.mov(__word_ptr[Data + 0x40], 0x5A5A);
            a.mov(__word_ptr[Data + 0x42], 0x5A5A);
            a.fninit();
            a.fnstsw(__word_ptr[Data + 0x40]);
            a.fnstcw(__word_ptr[Data + 0x42]);
            a.fninit();
            a.fld(__qword_ptr[Data]);
            a.fdiv(__qword_ptr[Data + 8]);
            a.fmul(__qword_ptr[Data + 8]);
            a.fld(__qword_ptr[Data]);
            a.fsubp(st1, st0);
            a.fistp(__dword_ptr[Data + 0x48]);
            a.wait();
            a.fninit();
        }, r =>
        {
            r.Memory.WritePhys(Data, 8, (ulong)BitConverter.DoubleToInt64Bits(4195835.0));
            r.Memory.WritePhys(Data + 8, 8, (ulong)BitConverter.DoubleToInt64Bits(3145727.0));
            r.Memory.WritePhys(Data + 0x48, 4, 0xFFFF_FFFF);
        });
        Assert.That(rig.Memory.ReadPhys(Data + 0x40, 2), Is.Zero, "FSW after FNINIT");
        Assert.That(rig.Memory.ReadPhys(Data + 0x42, 2) & 0x103F, Is.EqualTo(0x3F), "FCW after FNINIT");
        Assert.That(rig.Memory.ReadPhys(Data + 0x48, 4), Is.Zero, "no FDIV bug");
    }

    [TestCase(3, 2, 0UL, TestName = "FcomiGreater")]
    [TestCase(2, 3, Rflags.CF, TestName = "FcomiLess")]
    [TestCase(2, 2, Rflags.ZF, TestName = "FcomiEqual")]
    [TestCase(-1, 2, Rflags.ZF | Rflags.PF | Rflags.CF, TestName = "FcomiUnordered")]
    public void FcomiSetsZfPfCfAndFucomipPops(int top, int next, ulong expected)
    {
        Float80 V(int n) => n switch { 2 => Two, 3 => Three, _ => new Float80(0xC000_0000_0000_0000, 0x7FFF) }; // -1: QNaN
        using var rig = Run(a =>
        {
            a.fninit();
            a.fld(__tword_ptr[Data + 16]);
            a.fld(__tword_ptr[Data]);
            a.mov(eax, 0x7F);
            a.add(al, 1);                    // OF=1 SF=1 AF=1: FCOMI must clear them
            a.fucomip(st0, st1);
            a.pushfq();
            a.pop(rbx);
            a.fnstsw(ax);
        }, r => { Put(r, Data, V(top)); Put(r, Data + 16, V(next)); });
        ulong f = rig.Cpu.GetGpr(Cpu.RBX) & (Rflags.ZF | Rflags.PF | Rflags.CF | Rflags.OF | Rflags.SF | Rflags.AF);
        Assert.That(f, Is.EqualTo(expected));
        Assert.That(rig.Cpu.X87.Top, Is.EqualTo(7), "FUCOMIP popped");
        Assert.That(rig.Cpu.GetGpr(Cpu.RAX) & 1, Is.Zero, "FUCOMI: a QNaN is not invalid");
    }
}
