using Iced.Intel;
using KhoEmu.Core;
using KhoEmu.Cpu.State;
using KhoEmu.Cpu.X87;
using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Cpu.Tests;

/// <summary>FSTENV/FLDENV and FSAVE/FRSTOR layouts, FXSAVE/FXRSTOR, the last-instruction pointers, #NM, #MF and FERR#.</summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class X87EnvironmentTests
{
    private const ulong Data = TestRig.DataBase;
    private const ulong Handler = TestRig.CodeBase + 0x800;
    private static readonly Float80 Two = new(0x8000_0000_0000_0000, 0x4000);

    private static void Put(TestRig rig, ulong at, Float80 v)
    {
        rig.Memory.WritePhys(at, 8, v.Significand);
        rig.Memory.WritePhys(at + 8, 2, v.SignExponent);
    }

    private static TestRig Run(Action<Assembler> body, Action<TestRig>? setup = null)
    {
        var rig = new TestRig();
        Put(rig, Data, Two);
        rig.Memory.WritePhys(Data + 0x80, 16, 0);
        setup?.Invoke(rig);
        rig.Load(a => { body(a); a.hlt(); });
        var reason = rig.Cpu.Run(10_000);
        Assert.That(reason, Is.EqualTo(StopReason.HaltedForever), rig.Cpu.Diagnostic);
        return rig;
    }

    private static uint D(TestRig rig, ulong at) => (uint)rig.Memory.ReadPhys(at, 4);
    private static ushort W(TestRig rig, ulong at) => (ushort)rig.Memory.ReadPhys(at, 2);

    /// <summary>FLD m80 at CodeBase+3 (after FNINIT, 2 bytes... the offset is taken from the assembled code).</summary>
    private static void LoadOne(Assembler a) { a.fninit(); a.fld(__tword_ptr[rsi]); }

    [Test]
    public void Fnstenv32BitProtectedLayout()
    {
        using var rig = Run(a =>
        {
            a.mov(rsi, Data);
            LoadOne(a);
            a.fnstenv(__[rsi + 0x100]);
        });
        ulong e = Data + 0x100;
        ulong fldRip = TestRig.CodeBase + 10 + 2; // mov rsi, imm64 (10 bytes), fninit (2)
        Assert.That(D(rig, e + 0), Is.EqualTo(0xFFFF_037Fu));
        Assert.That(D(rig, e + 4), Is.EqualTo(0xFFFF_0000u | (7 << 11)));
        Assert.That(D(rig, e + 8), Is.EqualTo(0xFFFF_3FFFu), "R7 valid, the rest empty");
        Assert.That(D(rig, e + 12), Is.EqualTo((uint)fldRip));
        Assert.That(D(rig, e + 16), Is.EqualTo(0x08u | (0x32Eu << 16)), "FCS 08, FOP = DB 2E & 7FF");
        Assert.That(D(rig, e + 20), Is.EqualTo((uint)Data));
        Assert.That(D(rig, e + 24), Is.EqualTo(0xFFFF_0010u));
    }

    [Test]
    public void Fnstenv16BitProtectedLayoutAndMasking()
    {
        using var rig = Run(a =>
        {
            a.mov(rsi, Data);
            LoadOne(a);
            a.fldcw(__word_ptr[rsi + 0x80]);
            a.db(0x66); a.fnstenv(__[rsi + 0x100]); // operand-size prefix: the 14-byte form
        }, r => r.Memory.WritePhys(Data + 0x80, 2, 0x0C72));
        ulong e = Data + 0x100;
        Assert.That(W(rig, e + 0), Is.EqualTo(0x0C72));
        Assert.That(W(rig, e + 2), Is.EqualTo(7 << 11));
        Assert.That(W(rig, e + 4), Is.EqualTo(0x3FFF));
        Assert.That(W(rig, e + 6), Is.EqualTo(unchecked((ushort)(TestRig.CodeBase + 12))));
        Assert.That(W(rig, e + 8), Is.EqualTo(0x08));
        Assert.That(W(rig, e + 10), Is.EqualTo(unchecked((ushort)Data)));
        Assert.That(W(rig, e + 12), Is.EqualTo(0x10));
        Assert.That(rig.Cpu.X87.ControlWord, Is.EqualTo(0x0C7F), "FNSTENV masks every exception afterwards");
    }

    [Test]
    public void FldenvRoundTripRecomputesTagsAndErrorSummary()
    {
        using var rig = Run(a =>
        {
            a.mov(rsi, Data);
            LoadOne(a);
            a.fnstenv(__[rsi + 0x100]);
            a.fninit();
            a.fldenv(__[rsi + 0x200]);
        }, r =>
        {
            // A hand-made 28-byte environment: CW unmasks IE, SW has IE and TOP 7, tag says R7 "zero" (it holds 2.0).
            r.Memory.WritePhys(Data + 0x200, 4, 0x037E);
            r.Memory.WritePhys(Data + 0x204, 4, 0x3801);
            r.Memory.WritePhys(Data + 0x208, 4, 0x7FFF);
            r.Memory.WritePhys(Data + 0x20C, 4, 0x1234_5678);
            r.Memory.WritePhys(Data + 0x210, 4, 0x0123_0033);
            r.Memory.WritePhys(Data + 0x214, 4, 0x9ABC_DEF0);
            r.Memory.WritePhys(Data + 0x218, 4, 0x002B);
        });
        var s = rig.Cpu.X87;
        Assert.That(s.ControlWord, Is.EqualTo(0x037E));
        Assert.That(s.StatusWord, Is.EqualTo(0x3801 | X87State.StatusES | X87State.StatusB), "unmasked IE pending");
        Assert.That(s.TagWord, Is.EqualTo(0x3FFF), "non-empty tags follow the contents (2.0 is valid)");
        Assert.That((s.LastInstructionPointer, s.LastInstructionSelector, s.LastOpcode), Is.EqualTo((0x1234_5678UL, (ushort)0x33, (ushort)0x123)));
        Assert.That((s.LastDataPointer, s.LastDataSelector), Is.EqualTo((0x9ABC_DEF0UL, (ushort)0x2B)));
    }

    [TestCase(false), TestCase(true)]
    public void FsaveStoresRegistersInStackOrderInitialisesAndFrstorRestores(bool small)
    {
        var three = new Float80(0xC000_0000_0000_0000, 0x4000);
        X87State before = default;
        using var rig = Run(a =>
        {
            a.mov(rsi, Data);
            LoadOne(a);
            a.fld(__tword_ptr[rsi + 0x40]);
            if (small) a.db(0x66);
            a.fnsave(__[rsi + 0x100]);
            a.fnstsw(ax);
            a.mov(ebx, eax);
            a.fnstcw(__word_ptr[rsi + 0x90]);
            if (small) a.db(0x66);
            a.frstor(__[rsi + 0x100]);
        }, r => Put(r, Data + 0x40, three));
        ulong regs = Data + 0x100 + (small ? 14UL : 28UL);
        Assert.That(rig.Memory.ReadPhys(regs + 8, 2), Is.EqualTo(three.SignExponent), "ST0 first");
        Assert.That(rig.Memory.ReadPhys(regs + 10, 8), Is.EqualTo(Two.Significand), "ST1 next, 10 bytes on");
        Assert.That(rig.Cpu.GetGpr(Cpu.RBX) & 0xFFFF, Is.Zero, "FSAVE re-initialises: FSW 0");
        Assert.That(W(rig, Data + 0x90), Is.EqualTo(0x037F));
        before = rig.Cpu.X87;
        Assert.That(before.Top, Is.EqualTo(6));
        Assert.That(before.St(0), Is.EqualTo(three));
        Assert.That(before.St(1), Is.EqualTo(Two));
        Assert.That(before.TagWord, Is.EqualTo(0x0FFF));
    }

    [Test]
    public void RealModeEnvironmentsStoreLinearPointers()
    {
        using var rig = new TestRig();
        var cpu = rig.Cpu;
        cpu.SetControlRegisters(ControlBits.Cr0ET, 0, 0, 0);
        cpu.LoadSegment(SegReg.CS, SegmentCache.RealMode(0x1000));
        foreach (int s in new[] { SegReg.DS, SegReg.ES, SegReg.SS }) cpu.LoadSegment(s, SegmentCache.RealMode(0x2000));
        Put(rig, 0x20010, Two);
        var a = new Assembler(16);
        a.fninit();
        a.fld(__tword_ptr[0x10]);
        a.fnstenv(__[0x100]);
        a.db(0x66);
        a.fnstenv(__[0x200]);
        a.hlt();
        using var ms = new MemoryStream();
        a.Assemble(new StreamCodeWriter(ms), 0x100);
        rig.Memory.Write(0x10100, ms.ToArray());
        cpu.InstructionPointer = 0x100;
        Assert.That(cpu.Run(100), Is.EqualTo(StopReason.HaltedForever), cpu.Diagnostic);
        // FLD m80 [0x10] at 1000:0102 → linear 0x10102; operand at 2000:0010 → 0x20010. FOP = DB 2E → 0x32E.
        Assert.That(W(rig, 0x20106), Is.EqualTo(0x0102));
        Assert.That(W(rig, 0x20108), Is.EqualTo(0x1000 | 0x32E), "FIP bits 19-16 in 15-12, FOP below");
        Assert.That(W(rig, 0x2010A), Is.EqualTo(0x0010));
        Assert.That(W(rig, 0x2010C), Is.EqualTo(0x2000));
        Assert.That(D(rig, 0x2020C), Is.EqualTo(0xFFFF_0102u));
        Assert.That(D(rig, 0x20210), Is.EqualTo(0x0000_1000u | 0x32E));
        Assert.That(D(rig, 0x20214), Is.EqualTo(0xFFFF_0010u));
        Assert.That(D(rig, 0x20218), Is.EqualTo(0x0000_2000u));
    }

    [Test]
    public void FxsaveFxrstorRoundTripWithAbridgedTag()
    {
        using var rig = Run(a =>
        {
            a.mov(rsi, Data);
            LoadOne(a);
            a.fld(__tword_ptr[rsi + 0x40]);     // +0.0: tag "zero"
            a.fxsave64(__[rsi + 0x400]);
            a.fninit();
            a.fxrstor64(__[rsi + 0x400]);
        }, r => Put(r, Data + 0x40, Float80.Zero));
        ulong f = Data + 0x400;
        Assert.That(W(rig, f), Is.EqualTo(0x037F));
        Assert.That(W(rig, f + 2), Is.EqualTo(6 << 11));
        Assert.That(rig.Memory.ReadPhys(f + 4, 1), Is.EqualTo(0xC0), "abridged: R6 and R7 in use");
        Assert.That(W(rig, f + 6), Is.EqualTo(0x36E), "FOP of FLD [rsi+disp8]: DB 6E");
        Assert.That(rig.Memory.ReadPhys(f + 8, 8), Is.EqualTo(TestRig.CodeBase + 14), "64-bit FIP of the second FLD");
        Assert.That(rig.Memory.ReadPhys(f + 16, 8), Is.EqualTo(Data + 0x40), "64-bit FDP");
        Assert.That(rig.Memory.ReadPhys(f + 32 + 8, 2), Is.Zero, "ST0 = +0.0");
        Assert.That(rig.Memory.ReadPhys(f + 48, 8), Is.EqualTo(Two.Significand), "ST1 in the next 16-byte slot");
        Assert.That(rig.Memory.ReadPhys(f + 24, 4), Is.EqualTo(0x1F80), "MXCSR");
        var s = rig.Cpu.X87;
        Assert.That(s.Top, Is.EqualTo(6));
        Assert.That(s.TagWord, Is.EqualTo((ushort)(0b00 << 14 | 0b01 << 12 | 0x0FFF)), "full tags recomputed: R7 valid, R6 zero");
        Assert.That(s.St(1), Is.EqualTo(Two));
        Assert.That(s.LastDataPointer, Is.EqualTo(Data + 0x40));
    }

    [Test]
    public void Fxsave32BitFormStoresSelectors()
    {
        using var rig = Run(a => { a.mov(rsi, Data); LoadOne(a); a.fxsave(__[rsi + 0x400]); });
        ulong f = Data + 0x400;
        Assert.That(D(rig, f + 8), Is.EqualTo((uint)(TestRig.CodeBase + 12)));
        Assert.That(W(rig, f + 12), Is.EqualTo(0x08));
        Assert.That(D(rig, f + 16), Is.EqualTo((uint)Data));
        Assert.That(W(rig, f + 20), Is.EqualTo(0x10));
    }

    private static TestRig RunWithHandler(int vector, Action<Assembler> body, ulong cr0Extra, ulong cr0Clear = 0)
    {
        var rig = new TestRig();
        Put(rig, Data, Two);
        rig.Memory.WritePhys(Data + 0x80, 2, 0x037E);
        rig.SetGate(vector, Handler);
        rig.Load(a => { a.mov(rdx, 0xDEAD); a.pop(rcx); a.hlt(); }, Handler);
        rig.Load(a => { body(a); a.hlt(); });
        var cpu = rig.Cpu;
        cpu.SetControlRegisters((cpu.Cr0Value | cr0Extra) & ~cr0Clear, cpu.Cr3Value, cpu.Cr4Value, cpu.EferValue);
        Assert.That(cpu.Run(10_000), Is.EqualTo(StopReason.HaltedForever), cpu.Diagnostic);
        return rig;
    }

    [TestCase(ControlBits.Cr0EM), TestCase(ControlBits.Cr0TS)]
    public void EmOrTsRaiseNmForX87IncludingNonWaitingForms(ulong bit)
    {
        using var rig = RunWithHandler(7, a => { a.mov(rsi, Data); a.fnstsw(ax); }, bit);
        Assert.That(rig.Cpu.GetGpr(Cpu.RDX), Is.EqualTo(0xDEAD));
        Assert.That(rig.Cpu.GetGpr(Cpu.RCX), Is.EqualTo(TestRig.CodeBase + 10), "#NM at FNSTSW");
    }

    [TestCase(ControlBits.Cr0EM), TestCase(ControlBits.Cr0TS)]
    public void EmOrTsRaiseNmForFxsave(ulong bit)
    {
        using var rig = RunWithHandler(7, a => { a.mov(rsi, Data); a.fxsave(__[rsi + 0x400]); }, bit);
        Assert.That(rig.Cpu.GetGpr(Cpu.RCX), Is.EqualTo(TestRig.CodeBase + 10));
    }

    [Test]
    public void WaitRaisesNmOnlyWithMpAndTs()
    {
        using (var rig = RunWithHandler(7, a => a.wait(), ControlBits.Cr0TS))
            Assert.That(rig.Cpu.GetGpr(Cpu.RCX), Is.EqualTo(TestRig.CodeBase), "MP (set by the rig) and TS: #NM");
        using (var rig = RunWithHandler(7, a => a.wait(), ControlBits.Cr0TS | ControlBits.Cr0EM, ControlBits.Cr0MP))
            Assert.That(rig.Cpu.GetGpr(Cpu.RDX), Is.Not.EqualTo(0xDEAD), "TS without MP: WAIT runs (EM does not matter)");
    }

    /// <summary>Unmask IE, underflow with FSTP from an empty stack, then FNSTSW (no #MF) and FLD (#MF).</summary>
    private static void PendingInvalid(Assembler a)
    {
        a.mov(rsi, Data);                   // 10 bytes
        a.fninit();                         // 12
        a.fldcw(__word_ptr[rsi + 0x80]);    // 12: D9 AE disp32
        a.fstp(__tword_ptr[rsi + 0x100]);   // 18: underflow, IE unmasked: pending
        a.fnstsw(ax);                       // 24: non-waiting: no #MF
        a.fld(__tword_ptr[rsi]);            // 26: waiting: #MF here
    }

    [Test]
    public void UnmaskedExceptionRaisesMfAtTheNextWaitingInstruction()
    {
        using var rig = RunWithHandler(16, PendingInvalid, ControlBits.Cr0NE);
        Assert.That(rig.Cpu.GetGpr(Cpu.RDX), Is.EqualTo(0xDEAD));
        Assert.That(rig.Cpu.GetGpr(Cpu.RCX), Is.EqualTo(TestRig.CodeBase + 26), "#MF at the FLD, after FNSTSW ran");
        ushort sw = (ushort)rig.Cpu.GetGpr(Cpu.RAX);
        Assert.That(sw & 0x80FF, Is.EqualTo(0x80C1), "B, ES, SF, IE");
        Assert.That(rig.Cpu.X87.Top, Is.Zero, "the FLD did not execute");
        Assert.That(rig.Cpu.X87.LastInstructionPointer, Is.EqualTo(TestRig.CodeBase + 18), "FIP names the FSTP");
    }

    private sealed class Line : IIrqLine
    {
        public List<bool> Levels { get; } = [];
        public void Set(bool level) => Levels.Add(level);
    }

    [Test]
    public void WithNeClearAPendingExceptionAssertsFerrAndExecutes()
    {
        var line = new Line();
        var rig = new TestRig();
        Put(rig, Data, Two);
        rig.Memory.WritePhys(Data + 0x80, 2, 0x037E);
        rig.Cpu.FerrLine = line;
        rig.Load(a => { PendingInvalid(a); a.fnclex(); a.hlt(); });
        using (rig)
        {
            Assert.That(rig.Cpu.Run(1000), Is.EqualTo(StopReason.HaltedForever), rig.Cpu.Diagnostic);
            Assert.That(line.Levels, Is.EqualTo(new[] { true, false }), "FERR# at the FLD, released by FNCLEX");
            Assert.That(rig.Cpu.X87.Top, Is.EqualTo(7), "the FLD executed");
        }
    }

    [Test]
    public void FwaitRaisesMfButNotAfterFnclex()
    {
        void Body(Assembler a, bool clear)
        {
            a.mov(rsi, Data);                   // 10 bytes
            a.fninit();                         // 12
            a.fldcw(__word_ptr[rsi + 0x80]);    // 12-18
            a.fstp(__tword_ptr[rsi + 0x100]);   // 18-24: pending
            if (clear) a.fnclex();              // 24-26
            a.wait();
        }
        using (var rig = RunWithHandler(16, a => Body(a, false), ControlBits.Cr0NE))
            Assert.That(rig.Cpu.GetGpr(Cpu.RCX), Is.EqualTo(TestRig.CodeBase + 24), "#MF at the WAIT");
        using (var rig = RunWithHandler(16, a => Body(a, true), ControlBits.Cr0NE))
        {
            Assert.That(rig.Cpu.GetGpr(Cpu.RDX), Is.Not.EqualTo(0xDEAD), "FNCLEX cleared the pending exception");
            Assert.That(rig.Cpu.X87.StatusWord & 0x80FF, Is.Zero);
        }
    }

    [Test]
    public void ResetReturnsTheFpuToItsPowerOnState()
    {
        using var rig = Run(a => { a.mov(rsi, Data); LoadOne(a); });
        Assert.That(rig.Cpu.X87.Top, Is.EqualTo(7));
        rig.Cpu.Reset();
        var s = rig.Cpu.X87;
        Assert.That((s.ControlWord, s.StatusWord, s.TagWord), Is.EqualTo(((ushort)0x0040, (ushort)0, (ushort)0x5555)));
        Assert.That(s.Registers[7], Is.EqualTo(Float80.Zero));
    }

    [Test]
    public void FxsaveInCompatibilityModeStoresXmm0To7AndSelectors()
    {
        using var rig = new TestRig();
        var cpu = rig.Cpu;
        const ulong code32 = 0x00CF_9B00_0000_FFFF; // 32-bit code segment (L = 0, D = 1): compatibility mode
        rig.W64(0x500 + 24, code32);
        cpu.SetDescriptorTables(0x500, 31, TestRig.IdtBase, 16 * 256 - 1);
        cpu.SetXmm(7, new Xmm(0x7777, 0x7777));
        cpu.SetXmm(8, new Xmm(0x8888, 0x8888));
        Put(rig, Data, Two);
        for (ulong i = 0; i < 512; i += 8) rig.W64(Data + 0x400 + i, 0x5A5A_5A5A_5A5A_5A5A);
        var a = new Assembler(32);
        a.fninit();
        a.fld(__tword_ptr[(uint)Data]);
        a.fxsave(__[(uint)Data + 0x400]);
        a.hlt();
        using var ms = new MemoryStream();
        a.Assemble(new StreamCodeWriter(ms), TestRig.CodeBase);
        rig.Memory.Write(TestRig.CodeBase, ms.ToArray());
        cpu.LoadSegment(SegReg.CS, SegmentCache.FromDescriptor(0x18, code32));
        cpu.InstructionPointer = TestRig.CodeBase;
        Assert.That(cpu.Run(100), Is.EqualTo(StopReason.HaltedForever), cpu.Diagnostic);
        ulong f = Data + 0x400;
        Assert.That(D(rig, f + 8), Is.EqualTo((uint)TestRig.CodeBase + 2), "FIP: the FLD after FNINIT");
        Assert.That(W(rig, f + 12), Is.EqualTo(0x18), "FCS");
        Assert.That(D(rig, f + 16), Is.EqualTo((uint)Data), "FDP");
        Assert.That(rig.R64(f + 160 + 7 * 16), Is.EqualTo(0x7777), "XMM7 saved");
        Assert.That(rig.R64(f + 160 + 8 * 16), Is.EqualTo(0x5A5A_5A5A_5A5A_5A5AUL), "XMM8 not saved outside 64-bit mode");
    }
}
