using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Iced.Intel;
using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Cpu.Tests;

/// <summary>
/// The SSE2 saturating, averaging, multiply-add and SAD integer instructions against the host CPU's own (each .NET
/// SSE2 intrinsic used here compiles to exactly that instruction): random and edge lanes, the register form and the
/// m128 form of each, from the same inputs.
/// </summary>
[TestFixture, Category("Differential")]
public sealed class SseIntegerDifferentialTests
{
    private delegate void Emit(Assembler a, AssemblerRegisterXMM dst, object src);

    private static void Op(Assembler a, string name, AssemblerRegisterXMM dst, object src)
    {
        var m = typeof(Assembler).GetMethod(name, [typeof(AssemblerRegisterXMM), src.GetType()])
            ?? throw new InvalidOperationException($"Assembler has no {name}(xmm, {src.GetType().Name})");
        m.Invoke(a, [dst, src]);
    }

    private static readonly (string Name, Func<Vector128<ulong>, Vector128<ulong>, Vector128<ulong>> Host)[] Ops =
    [
        ("packsswb", (a, b) => Sse2.PackSignedSaturate(a.AsInt16(), b.AsInt16()).AsUInt64()),
        ("packssdw", (a, b) => Sse2.PackSignedSaturate(a.AsInt32(), b.AsInt32()).AsUInt64()),
        ("packuswb", (a, b) => Sse2.PackUnsignedSaturate(a.AsInt16(), b.AsInt16()).AsUInt64()),
        ("paddsb", (a, b) => Sse2.AddSaturate(a.AsSByte(), b.AsSByte()).AsUInt64()),
        ("paddsw", (a, b) => Sse2.AddSaturate(a.AsInt16(), b.AsInt16()).AsUInt64()),
        ("paddusb", (a, b) => Sse2.AddSaturate(a.AsByte(), b.AsByte()).AsUInt64()),
        ("paddusw", (a, b) => Sse2.AddSaturate(a.AsUInt16(), b.AsUInt16()).AsUInt64()),
        ("psubsb", (a, b) => Sse2.SubtractSaturate(a.AsSByte(), b.AsSByte()).AsUInt64()),
        ("psubsw", (a, b) => Sse2.SubtractSaturate(a.AsInt16(), b.AsInt16()).AsUInt64()),
        ("psubusb", (a, b) => Sse2.SubtractSaturate(a.AsByte(), b.AsByte()).AsUInt64()),
        ("psubusw", (a, b) => Sse2.SubtractSaturate(a.AsUInt16(), b.AsUInt16()).AsUInt64()),
        ("pavgb", (a, b) => Sse2.Average(a.AsByte(), b.AsByte()).AsUInt64()),
        ("pavgw", (a, b) => Sse2.Average(a.AsUInt16(), b.AsUInt16()).AsUInt64()),
        ("pmaddwd", (a, b) => Sse2.MultiplyAddAdjacent(a.AsInt16(), b.AsInt16()).AsUInt64()),
        ("pmulhw", (a, b) => Sse2.MultiplyHigh(a.AsInt16(), b.AsInt16()).AsUInt64()),
        ("pmulhuw", (a, b) => Sse2.MultiplyHigh(a.AsUInt16(), b.AsUInt16()).AsUInt64()),
        ("psadbw", (a, b) => Sse2.SumAbsoluteDifferences(a.AsByte(), b.AsByte()).AsUInt64()),
    ];

    public static IEnumerable<string> Names() => Ops.Select(o => o.Name);

    /// <summary>Lanes biased towards the saturation and overflow edges (0, -1, the signed/unsigned limits).</summary>
    private static ulong RandomQword(Random r)
    {
        ushort[] edges = [0, 0xFFFF, 0x8000, 0x7FFF, 0x0080, 0x007F, 0xFF80, 0xFF7F, 0x00FF, 0x0001, 0x8080, 0x7F7F];
        ulong v = 0;
        for (int w = 0; w < 4; w++)
        {
            ulong lane = r.Next(3) == 0 ? edges[r.Next(edges.Length)] : (ulong)r.Next(0x10000);
            v |= lane << (16 * w);
        }
        return r.Next(4) == 0 ? (ulong)r.NextInt64() : v;
    }

    [TestCaseSource(nameof(Names))]
    public void MatchesHostCpu(string name)
    {
        if (!Sse2.IsSupported) Assert.Inconclusive("the host has no SSE2");
        var host = Ops.Single(o => o.Name == name).Host;
        using var rig = new TestRig();
        const ulong data = TestRig.DataBase;
        // dest at +0x00, source at +0x10; register-form result at +0x20, memory-form result at +0x30.
        rig.Load(a =>
        {
            a.mov(rbx, data);
            a.movdqu(xmm3, __xmmword_ptr[rbx]);
            a.movdqu(xmm9, __xmmword_ptr[rbx + 0x10]);
            Op(a, name, xmm3, xmm9);
            a.movdqu(__xmmword_ptr[rbx + 0x20], xmm3);
            a.movdqu(xmm12, __xmmword_ptr[rbx]);
            Op(a, name, xmm12, __xmmword_ptr[rbx + 0x10]);
            a.movdqu(__xmmword_ptr[rbx + 0x30], xmm12);
            a.hlt();
        });
        var r = new Random(TestSeeds.For(name));
        for (int n = 0; n < 5_000; n++)
        {
            var d = Vector128.Create(RandomQword(r), RandomQword(r));
            var s = Vector128.Create(RandomQword(r), RandomQword(r));
            if (n % 16 == 0) s = d; // equal operands: PSADBW 0, PAVG identity, PSUBS 0
            Put(rig, data, d);
            Put(rig, data + 0x10, s);
            rig.Cpu.InstructionPointer = TestRig.CodeBase;
            Assert.That(rig.Cpu.Run(8), Is.EqualTo(StopReason.InstructionLimit), rig.Cpu.Diagnostic);
            var expected = host(d, s);
            string input = $"{name} dest {d[1]:x16}{d[0]:x16} src {s[1]:x16}{s[0]:x16}";
            Assert.That(Get(rig, data + 0x20), Is.EqualTo(expected), input + " (xmm, xmm)");
            Assert.That(Get(rig, data + 0x30), Is.EqualTo(expected), input + " (xmm, m128)");
        }
    }

    [Test]
    public void MisalignedMemoryOperandIsGeneralProtection()
    {
        using var p = new FaultProbe();
        int raised = p.Run(a =>
        {
            a.mov(rbx, TestRig.DataBase + 8);
            a.paddsw(xmm0, __xmmword_ptr[rbx]);
        });
        Assert.That(raised, Is.EqualTo(State.Vector.GP), "legacy SSE m128 operands must be 16-byte aligned");
        Assert.That(p.Error, Is.Zero);
    }

    [Test]
    public void MmxFormStillStopsTheMachine()
    {
        using var rig = new TestRig();
        rig.Load(a => { a.paddsw(mm0, mm1); a.hlt(); });
        Assert.That(rig.Cpu.Run(1), Is.EqualTo(StopReason.Unsupported));
        Assert.That(rig.Cpu.Diagnostic, Does.Contain("MMX"));
    }

    private static void Put(TestRig rig, ulong at, Vector128<ulong> v)
    {
        rig.W64(at, v[0]);
        rig.W64(at + 8, v[1]);
    }

    private static Vector128<ulong> Get(TestRig rig, ulong at) => Vector128.Create(rig.R64(at), rig.R64(at + 8));
}
