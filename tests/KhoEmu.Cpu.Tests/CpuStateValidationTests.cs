using System.Reflection;
using System.Runtime.CompilerServices;
using KhoEmu.Core.State;
using KhoEmu.Cpu.State;
using NUnit.Framework;

namespace KhoEmu.Cpu.Tests;

/// <summary><see cref="Cpu.ValidateState"/>: each impossible state is refused with one line naming what is wrong, and
/// refusing changes nothing.</summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class CpuStateValidationTests
{
    public delegate void Corrupt(ref CpuState s);

    private static CpuState Valid(TestRig rig)
    {
        rig.Load(a => { a.add(Iced.Intel.AssemblerRegisters.rax, Iced.Intel.AssemblerRegisters.rbx); a.hlt(); });
        rig.Cpu.Run(1);
        return rig.Cpu.SaveState();
    }

    private static IEnumerable<TestCaseData> Corruptions()
    {
        TestCaseData Case(string name, string expect, Corrupt c) => new TestCaseData(c, expect).SetName($"Refused: {name}");
        yield return Case("unknown CPU mode", "unknown CPU mode 9", (ref CpuState s) => s.Mode = (CpuMode)9);
        yield return Case("mode disagreeing with CS.L", "disagrees with CR0.PE", (ref CpuState s) => s.Mode = CpuMode.Compat32);
        yield return Case("real mode with CR0.PE set", "disagrees", (ref CpuState s) => s.Mode = CpuMode.Real16);
        yield return Case("unknown lazy-flag operation", "unknown lazy-flag operation 200", (ref CpuState s) => SetLazyOp(ref s, 200));
        yield return Case("lazy operand size 3", "lazy-flag operand size 3", (ref CpuState s) => s.LazySize = 3);
        yield return Case("CPL 4", "CPL 4", (ref CpuState s) => s.Cpl = 4);
        yield return Case("a bool byte of 2", "a flag byte holds 2", (ref CpuState s) => Unsafe.As<bool, byte>(ref s.Halted) = 2);
        yield return Case("interrupt shadow 3", "interrupt shadow 3", (ref CpuState s) => s.Shadow = 3);
        yield return Case("RFLAGS bit 1 clear", "RFLAGS", (ref CpuState s) => s.Rflags &= ~Rflags.Reserved1);
        yield return Case("CR0.PG without PE", "CR0", (ref CpuState s) => s.Cr0 &= ~ControlBits.Cr0PE);
        yield return Case("CR4 bit the model lacks", "CR4 0x", (ref CpuState s) => s.Cr4 |= ControlBits.Cr4PKS);
        yield return Case("CR8 above 15", "CR8", (ref CpuState s) => s.Cr8 = 16);
        yield return Case("EFER.LMA without CR0.PG", "EFER.LMA", (ref CpuState s) => s.Cr0 &= ~ControlBits.Cr0PG);
        yield return Case("XCR0 without x87", "XCR0", (ref CpuState s) => s.Xcr0 = 0);
        yield return Case("MXCSR reserved bits", "MXCSR", (ref CpuState s) => s.Mxcsr |= 1u << 20);
        yield return Case("non-canonical RIP", "RIP 0x", (ref CpuState s) => s.Rip = 0x0000_8000_0000_0000);
        yield return Case("DR7 fixed bit 10 clear", "DR7", (ref CpuState s) => s.Dr[7] = 0);
        yield return Case("DR4 slot used", "DR4/DR5", (ref CpuState s) => s.Dr[4] = 1);
        yield return Case("x87 opcode over 11 bits", "x87 last opcode", (ref CpuState s) => s.Fpu.LastOpcode = 0x800);
        yield return Case("non-canonical LSTAR", "not canonical", (ref CpuState s) => s.Msrs.Lstar = 0x0000_8000_0000_0000);
        yield return Case("MTRR default type reserved bits", "IA32_MTRR_DEF_TYPE", (ref CpuState s) => s.Msrs.MtrrDefType = 1UL << 12);
        yield return Case("PKRU on a model without PKU", "PKRU", (ref CpuState s) => s.Pkru = 4);
    }

    /// <summary>The lazy-flag operation is an internal enum: set its byte through reflection, as a corrupt file would.</summary>
    private static void SetLazyOp(ref CpuState s, byte value)
    {
        var f = typeof(CpuState).GetField("LazyOp", BindingFlags.Instance | BindingFlags.NonPublic)!;
        object boxed = s;
        f.SetValue(boxed, Enum.ToObject(f.FieldType, value));
        s = (CpuState)boxed;
    }

    [TestCaseSource(nameof(Corruptions))]
    public void ImpossibleStateIsRefused(Corrupt corrupt, string expect)
    {
        using var rig = new TestRig();
        var s = Valid(rig);
        Assert.DoesNotThrow(() => rig.Cpu.ValidateState(s));
        corrupt(ref s);
        var before = rig.Cpu.SaveState();
        var e = Assert.Throws<SnapshotFormatException>(() => rig.Cpu.ValidateState(s))!;
        Assert.That(e.Message, Does.StartWith("CPU state: ").And.Contain(expect).And.Not.Contain("\n"));
        Assert.That(rig.Cpu.SaveState(), Is.EqualTo(before), "refusing changed nothing");
    }

    [Test]
    public void StateFromAnotherModelIsRefusedNamingBoth()
    {
        using var max = new TestRig(model: CpuModels.Max);
        using var standard = new TestRig();
        var e = Assert.Throws<SnapshotFormatException>(() => standard.Cpu.ValidateState(Valid(max)))!;
        Assert.That(e.Message, Is.EqualTo($"CPU state: saved on CPU model 'max', this machine has '{CpuModels.Default.Name}' (use the same -cpu)"));
        Assert.DoesNotThrow(() => new TestRig(model: CpuModels.Max).Cpu.ValidateState(Valid(max)));
    }

    [Test]
    public void TruncatedSectionIsRefused()
    {
        using var rig = new TestRig();
        var section = CpuStateProgram.Section(rig.Cpu);
        byte[] bytes = section.Save();
        Assert.Throws<SnapshotFormatException>(() => section.Decode(bytes.AsSpan(0, bytes.Length - 1)));
        Assert.Throws<SnapshotFormatException>(() => section.Decode([]));
    }
}
