using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Iced.Intel;
using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Cpu.Tests;

/// <summary>
/// The SSE2 packed conversions against the host CPU's own (the .NET SSE2 intrinsics compile to exactly these
/// instructions, under the default MXCSR: round to nearest): random and edge lanes, NaNs and out-of-range values
/// that give the integer indefinite, and the upper quadword the two-lane forms zero.
/// </summary>
[TestFixture, Category("Differential")]
public sealed class SsePackedConvertTests
{
    private static readonly double[] EdgeDoubles =
    [
        0.0, -0.0, 0.5, -0.5, 1.5, 2.5, -2.5, 2147483647.0, 2147483647.5, 2147483648.0, -2147483648.0, -2147483648.5,
        -2147483649.0, 1e300, -1e300, double.NaN, double.PositiveInfinity, double.NegativeInfinity, double.Epsilon,
        3.4028235677973366e38, 1e39, 1.0000000596046448,
    ];

    private static double RandomDouble(Random r) => r.Next(3) switch
    {
        0 => EdgeDoubles[r.Next(EdgeDoubles.Length)],
        1 => (r.NextDouble() - 0.5) * Math.Pow(2, r.Next(0, 40)),
        _ => BitConverter.Int64BitsToDouble(r.NextInt64()),
    };

    private static float RandomSingle(Random r) => r.Next(3) switch
    {
        0 => (float)EdgeDoubles[r.Next(EdgeDoubles.Length)],
        1 => (float)((r.NextDouble() - 0.5) * Math.Pow(2, r.Next(0, 40))),
        _ => BitConverter.Int32BitsToSingle(r.Next()),
    };

    [Test]
    public void PackedConversionsMatchTheHost()
    {
        if (!Sse2.IsSupported) Assert.Inconclusive("the host has no SSE2");
        using var rig = new TestRig();
        const ulong data = TestRig.DataBase;
        // xmm1 = the doubles at +0x00, xmm2 = the singles/int32 at +0x10; results to +0x20, +0x30, ...
        rig.Load(a =>
        {
            a.mov(rbx, data);
            a.movdqu(xmm1, __xmmword_ptr[rbx]);
            a.movdqu(xmm2, __xmmword_ptr[rbx + 0x10]);
            a.movdqa(xmm0, xmm1); a.cvttpd2dq(xmm0, xmm0); a.movdqu(__xmmword_ptr[rbx + 0x20], xmm0);
            a.pcmpeqd(xmm0, xmm0); a.cvtpd2dq(xmm0, xmm1); a.movdqu(__xmmword_ptr[rbx + 0x30], xmm0);
            a.cvttps2dq(xmm0, xmm2); a.movdqu(__xmmword_ptr[rbx + 0x40], xmm0);
            a.cvtps2dq(xmm0, __xmmword_ptr[rbx + 0x10]); a.movdqu(__xmmword_ptr[rbx + 0x50], xmm0);
            a.cvtdq2ps(xmm0, xmm2); a.movdqu(__xmmword_ptr[rbx + 0x60], xmm0);
            a.pcmpeqd(xmm0, xmm0); a.cvtpd2ps(xmm0, xmm1); a.movdqu(__xmmword_ptr[rbx + 0x70], xmm0);
            a.cvtps2pd(xmm0, __qword_ptr[rbx + 0x18]); a.movdqu(__xmmword_ptr[rbx + 0x80], xmm0);
            a.hlt();
        });
        var r = new Random(20261201);
        for (int n = 0; n < 20_000; n++)
        {
            var d = Vector128.Create(RandomDouble(r), RandomDouble(r));
            var s = Vector128.Create(RandomSingle(r), RandomSingle(r), RandomSingle(r), RandomSingle(r));
            if (n % 4 == 0) s = Vector128.Create(r.Next(), -r.Next(), r.Next(int.MinValue, int.MaxValue), int.MinValue).AsSingle();
            Put(rig, data, d.AsUInt64());
            Put(rig, data + 0x10, s.AsUInt64());
            rig.Cpu.InstructionPointer = TestRig.CodeBase;
            Assert.That(rig.Cpu.Run(20), Is.EqualTo(StopReason.InstructionLimit));
            string input = $"doubles {d.AsUInt64()[0]:x16} {d.AsUInt64()[1]:x16}, singles {s.AsUInt64()[0]:x16} {s.AsUInt64()[1]:x16}";
            Assert.That(Get(rig, data + 0x20), Is.EqualTo(Sse2.ConvertToVector128Int32WithTruncation(d).AsUInt64()), "cvttpd2dq " + input);
            Assert.That(Get(rig, data + 0x30), Is.EqualTo(Sse2.ConvertToVector128Int32(d).AsUInt64()), "cvtpd2dq " + input);
            Assert.That(Get(rig, data + 0x40), Is.EqualTo(Sse2.ConvertToVector128Int32WithTruncation(s).AsUInt64()), "cvttps2dq " + input);
            Assert.That(Get(rig, data + 0x50), Is.EqualTo(Sse2.ConvertToVector128Int32(s).AsUInt64()), "cvtps2dq " + input);
            Assert.That(Get(rig, data + 0x60), Is.EqualTo(Sse2.ConvertToVector128Single(s.AsInt32()).AsUInt64()), "cvtdq2ps " + input);
            Assert.That(Get(rig, data + 0x70), Is.EqualTo(Sse2.ConvertToVector128Single(d).AsUInt64()), "cvtpd2ps " + input);
            Assert.That(Get(rig, data + 0x80), Is.EqualTo(Sse2.ConvertToVector128Double(Vector128.Create(s[2], s[3], 0, 0)).AsUInt64()), "cvtps2pd " + input);
        }
    }

    [Test]
    public void PackedToIntegerFollowsMxcsrRounding()
    {
        using var rig = new TestRig();
        const ulong data = TestRig.DataBase;
        rig.Load(a =>
        {
            a.mov(rbx, data);
            a.ldmxcsr(__dword_ptr[rbx + 0x40]);
            a.cvtpd2dq(xmm0, __xmmword_ptr[rbx]);
            a.cvtps2dq(xmm1, __xmmword_ptr[rbx + 0x10]);
            a.movdqu(__xmmword_ptr[rbx + 0x20], xmm0);
            a.movdqu(__xmmword_ptr[rbx + 0x30], xmm1);
            a.hlt();
        });
        Put(rig, data, Vector128.Create(-2.5, 2.5).AsUInt64());
        Put(rig, data + 0x10, Vector128.Create(-1.5f, 1.5f, 0.5f, -0.5f).AsUInt64());
        int[][] expected = [[-2, 2, -2, 2, 0, 0], [-3, 2, -2, 1, 0, -1], [-2, 3, -1, 2, 1, 0], [-2, 2, -1, 1, 0, 0]];
        for (uint rc = 0; rc < 4; rc++)
        {
            rig.Memory.WritePhys(data + 0x40, 4, 0x1F80 | (rc << 13));
            rig.Cpu.InstructionPointer = TestRig.CodeBase;
            Assert.That(rig.Cpu.Run(6), Is.EqualTo(StopReason.InstructionLimit));
            var pd = Get(rig, data + 0x20).AsInt32();
            var ps = Get(rig, data + 0x30).AsInt32();
            Assert.That(new[] { pd[0], pd[1], ps[0], ps[1], ps[2], ps[3] }, Is.EqualTo(expected[rc]), $"RC={rc}");
            Assert.That(pd[2] | pd[3], Is.Zero, "the two-lane form zeroes the upper quadword");
        }
    }

    private static void Put(TestRig rig, ulong at, Vector128<ulong> v)
    {
        rig.W64(at, v[0]);
        rig.W64(at + 8, v[1]);
    }

    private static Vector128<ulong> Get(TestRig rig, ulong at) => Vector128.Create(rig.R64(at), rig.R64(at + 8));
}
