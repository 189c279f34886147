using System.Reflection;
using System.Runtime.CompilerServices;
using KhoEmu.Core.State;
using KhoEmu.Cpu.State;
using MemoryPack;
using NUnit.Framework;

namespace KhoEmu.Cpu.Tests;

/// <summary>
/// <see cref="CpuState"/> and <see cref="Cpu"/>'s <see cref="IStateful{TState}"/> side (docs/cpu.md, "CPU state"):
/// the state is blittable and padding-free, survives MemoryPack and a fresh CPU byte for byte, a restored CPU continues
/// exactly as the original from cuts inside every kind of pending state, and impossible states are refused.
/// </summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class CpuStateTests
{
    [Test]
    public void CpuStateIsBlittable() =>
        Assert.That(RuntimeHelpers.IsReferenceOrContainsReferences<CpuState>(), Is.False);

    /// <summary>Raw bytes are the snapshot format, so bytes no field owns must not exist (X87State's, which
    /// <see cref="CpuState.Canonical"/> zeroes, aside).</summary>
    [Test]
    public void CpuStateHasNoPaddingOutsideTheX87State() =>
        Assert.That(FieldBytes(typeof(CpuState)), Is.EqualTo(Unsafe.SizeOf<CpuState>()));

    private static int FieldBytes(Type t)
    {
        if (t.IsPrimitive || t.IsEnum || t == typeof(X87State)) return SizeOf(t);
        var fields = t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);
        if (t.GetCustomAttribute<InlineArrayAttribute>() is { } inline) return inline.Length * FieldBytes(fields[0].FieldType);
        return fields.Sum(f => FieldBytes(f.FieldType));
    }

    private static int SizeOf(Type t) =>
        (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(t).Invoke(null, null)!;

    [Test]
    public void CanonicalZeroesX87PaddingAndKeepsTheValues()
    {
        using var p = new CpuStateProgram();
        Assert.That(p.Rig.Cpu.Run(CutAfter(p, "fsqrt")), Is.EqualTo(StopReason.InstructionLimit));
        var s = p.Rig.Cpu.SaveState();
        var poisoned = s;
        for (int i = 0; i < 8; i++)
            Unsafe.InitBlockUnaligned(ref Unsafe.Add(ref Unsafe.As<KhoEmu.Cpu.X87.Float80, byte>(ref poisoned.Fpu.Registers[i]), 10), 0xA5, 6);
        Assert.That(poisoned.Fpu.Registers[7], Is.EqualTo(s.Fpu.Registers[7]));
        Assert.That(poisoned.Canonical().ToBytes(), Is.EqualTo(s.ToBytes()));
        Assert.That(poisoned == s, Is.True);
        Assert.That(s.Fpu.St(0).Exponent, Is.Not.Zero, "the program left a value in ST(0)");
    }

    [Test]
    public void SaveLoadIntoAFreshCpuSavesTheSameBytes()
    {
        using var p = new CpuStateProgram();
        Assert.That(p.Rig.Cpu.Run(CutAfter(p, "inc")), Is.EqualTo(StopReason.InstructionLimit));
        byte[] saved = CpuStateProgram.Section(p.Rig.Cpu).Save();
        Assert.That(saved, Is.EqualTo(MemoryPackSerializer.Serialize(p.Rig.Cpu.SaveState())));
        Assert.That(saved, Has.Length.EqualTo(Unsafe.SizeOf<CpuState>()), "an unmanaged struct is stored as its bytes");
        using var copy = p.RestoreInto(saved);
        Assert.That(MemoryPackSerializer.Serialize(copy.Rig.Cpu.SaveState()), Is.EqualTo(saved));
        Assert.That(copy.Rig.Cpu.SaveState(), Is.EqualTo(p.Rig.Cpu.SaveState()));
        Assert.That(CpuStateProgram.Section(p.Rig.Cpu).Save(), Is.EqualTo(saved), "saving changed nothing");
    }

    [Test]
    public void SavingDoesNotMaterializeLazyFlags()
    {
        using var p = new CpuStateProgram();
        p.Rig.Cpu.Run(CutAfter(p, "add"));
        var before = p.Rig.Cpu.SaveState();
        ulong flags = p.Rig.Cpu.GetRflags(); // materializes
        Assert.That(flags & (Rflags.OF | Rflags.SF), Is.EqualTo(Rflags.OF | Rflags.SF), "0x7FFF... + 1 overflows");
        Assert.That(p.Rig.Cpu.SaveState(), Is.Not.EqualTo(before), "before GetRflags the arithmetic flags were a lazy record");
    }

    /// <summary>The instruction count after which the instruction at <paramref name="label"/> has retired for the
    /// first time, or (<paramref name="inside"/>) after its first slice when it is still to be continued.</summary>
    private static ulong CutAfter(CpuStateProgram p, string label, bool inside = false) => Cut(p, label, inside ? Inside : After);

    private const string After = "after", Inside = "inside", Before = "before";

    /// <summary><see cref="After"/>/<see cref="Inside"/>: as <see cref="CutAfter"/>; <see cref="Before"/>: the first
    /// count at which the instruction at <paramref name="label"/> is the next one.</summary>
    private static ulong Cut(CpuStateProgram p, string label, string where)
    {
        using var dry = new CpuStateProgram();
        var cpu = dry.Rig.Cpu;
        ulong at = p.Labels[label];
        while (true)
        {
            ulong rip = cpu.InstructionPointer;
            var stop = cpu.Run(1);
            if (stop != StopReason.InstructionLimit) throw new AssertionException($"{label} never retired ({stop})");
            if (where == Before ? cpu.InstructionPointer == at : rip == at && (where == After || cpu.InstructionPointer == at))
                return cpu.InstructionCount;
        }
    }

    [TestCase("add", false, TestName = "Restore right after ADD (lazy flags pending) continues bit-exact")]
    [TestCase("sbb", false, TestName = "Restore right after SBB (lazy flags with carry) continues bit-exact")]
    [TestCase("inc", false, TestName = "Restore right after INC (lazy flags, preserved CF) continues bit-exact")]
    [TestCase("sqrtsd", false, TestName = "Restore after SQRTSD continues bit-exact")]
    [TestCase("fsqrt", false, TestName = "Restore in the middle of x87 code continues bit-exact")]
    [TestCase("store4k", false, TestName = "Restore after a store through 4 KiB pages continues bit-exact")]
    [TestCase("cr3", false, TestName = "Restore after a CR3 reload continues bit-exact")]
    [TestCase("movsq", true, TestName = "Restore inside REP MOVSQ (bulk path) continues bit-exact")]
    [TestCase("movsb", true, TestName = "Restore inside a backward REP MOVSB continues bit-exact")]
    [TestCase("sti", false, TestName = "Restore after STI (interrupt shadow, interrupt waiting) continues bit-exact")]
    [TestCase("iretq", Before, TestName = "Restore inside the interrupt handler (frame on the stack) continues bit-exact")]
    [TestCase("movss", false, TestName = "Restore after MOV SS (shadow) continues bit-exact")]
    public void RestoredCpuContinuesLikeTheOriginal(string label, object where)
    {
        using var reference = new CpuStateProgram();
        var endReason = reference.Rig.Cpu.Run();
        Assert.That(endReason, Is.EqualTo(StopReason.HaltedForever), reference.Rig.Cpu.Diagnostic);
        var end = reference.Rig.Cpu.SaveState();

        using var original = new CpuStateProgram();
        ulong cut = where is string w ? Cut(original, label, w) : CutAfter(original, label, (bool)where);
        Assert.That(original.Rig.Cpu.Run(cut), Is.EqualTo(StopReason.InstructionLimit), original.Rig.Cpu.Diagnostic);
        var atCut = original.Rig.Cpu.SaveState();
        // The cut is where the case says: the pending state it is about is really pending.
        if (label == "sti") Assert.That(atCut.Shadow, Is.EqualTo(1), "STI shadow");
        if (label == "movss") Assert.That(atCut.Shadow, Is.EqualTo(2), "MOV SS shadow");
        if (label is "movsq" or "movsb")
        {
            Assert.That(atCut.Rip, Is.EqualTo(original.Labels[label]), "the string instruction is part way");
            Assert.That(atCut.Gpr[Cpu.RCX], Is.Not.Zero, "the string instruction is part way");
        }
        if (label == "iretq") Assert.That(atCut.Rip, Is.EqualTo(original.Labels["iretq"]));
        byte[] saved = CpuStateProgram.Section(original.Rig.Cpu).Save();
        using var restored = original.RestoreInto(saved);
        Assert.That(restored.Rig.Cpu.SaveState(), Is.EqualTo(atCut));

        Assert.That(original.Rig.Cpu.Run(), Is.EqualTo(endReason), original.Rig.Cpu.Diagnostic);
        Assert.That(restored.Rig.Cpu.Run(), Is.EqualTo(endReason), restored.Rig.Cpu.Diagnostic);
        foreach (var (name, p) in new[] { ("original", original), ("restored", restored) })
        {
            var cpu = p.Rig.Cpu;
            Assert.That(cpu.SaveState().ToBytes(), Is.EqualTo(end.ToBytes()), $"{name}: the whole CPU state, lazy flags unmaterialized");
            Assert.That(cpu.InstructionCount, Is.EqualTo(reference.Rig.Cpu.InstructionCount), $"{name}: instruction count");
            Assert.That(cpu.GetRflags(), Is.EqualTo(reference.Rig.Cpu.GetRflags()), $"{name}: RFLAGS");
            for (int r = 0; r < 16; r++) Assert.That(cpu.GetGpr(r), Is.EqualTo(reference.Rig.Cpu.GetGpr(r)), $"{name}: GPR {r}");
            Assert.That(CpuStateProgram.MemoryHash(p.Rig), Is.EqualTo(CpuStateProgram.MemoryHash(reference.Rig)), $"{name}: memory");
        }
        Assert.That(reference.Rig.Cpu.GetGpr(12), Is.EqualTo(5), "the interrupt was taken once");
        Assert.That(reference.Rig.Cpu.GetGpr(13), Is.Zero, "the instruction after STI ran before the handler");
    }
}
