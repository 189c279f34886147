using KhoEmu.Cpu.State;
using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Cpu.Tests;

/// <summary>
/// RCPPS/RCPSS/RSQRTPS/RSQRTSS (SDM vol. 2): hardware approximations differ between vendors, so these are not
/// compared with the host; the tests check the SDM's bound |relative error| &lt;= 1.5 * 2^-12, its special cases,
/// that the scalar forms keep the upper lanes, and that MXCSR is not touched.
/// </summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class SseReciprocalTests
{
    private static uint F(float v) => BitConverter.SingleToUInt32Bits(v);
    private static ulong Pack(uint lo, uint hi) => lo | (ulong)hi << 32;

    /// <summary>Runs <paramref name="name"/> xmm0, xmm1 (or xmm0, [mem]) and returns xmm0's four lanes and MXCSR.</summary>
    private static (uint[] Lanes, uint Mxcsr) Run(string name, uint[] src, uint[] dest, bool memory = false)
    {
        using var rig = new TestRig();
        rig.Cpu.SetXmm(0, new Xmm(Pack(dest[0], dest[1]), Pack(dest[2], dest[3])));
        rig.Cpu.SetXmm(1, new Xmm(Pack(src[0], src[1]), Pack(src[2], src[3])));
        rig.W64(TestRig.DataBase, Pack(src[0], src[1]));
        rig.W64(TestRig.DataBase + 8, Pack(src[2], src[3]));
        rig.Load(a =>
        {
            a.mov(rbx, TestRig.DataBase);
            object s = memory ? (name.EndsWith("ss") ? __dword_ptr[rbx] : __xmmword_ptr[rbx]) : xmm1;
            typeof(Iced.Intel.Assembler).GetMethod(name, [typeof(Iced.Intel.AssemblerRegisterXMM), s.GetType()])!.Invoke(a, [xmm0, s]);
            a.stmxcsr(__dword_ptr[rbx + 0x20]);
            a.hlt();
        });
        Assert.That(rig.Cpu.Run(3), Is.EqualTo(StopReason.InstructionLimit), rig.Cpu.Diagnostic);
        var x = rig.Cpu.GetXmm(0);
        return ([(uint)x.Lo, (uint)(x.Lo >> 32), (uint)x.Hi, (uint)(x.Hi >> 32)], (uint)rig.R64(TestRig.DataBase + 0x20));
    }

    [TestCase("rcpps", false)]
    [TestCase("rcpps", true)]
    [TestCase("rsqrtps", false)]
    [TestCase("rsqrtps", true)]
    public void RelativeErrorIsWithinTheSdmBound(string name, bool memory)
    {
        bool sqrt = name.StartsWith("rsqrt", StringComparison.Ordinal);
        var r = new Random(TestSeeds.For(name));
        double worst = 0;
        for (int n = 0; n < 500; n++)
        {
            var src = new uint[4];
            for (int i = 0; i < 4; i++)
            {
                // Normal values over the whole exponent range whose reciprocal is not tiny (|x| < 2^126).
                uint exp = (uint)r.Next(1, 253);
                src[i] = (exp << 23) | (uint)r.Next(0x80_0000) | (sqrt || r.Next(2) == 0 ? 0 : 0x8000_0000);
            }
            var (lanes, mxcsr) = Run(name, src, [0, 0, 0, 0], memory);
            Assert.That(mxcsr, Is.EqualTo(0x1F80u), "no SIMD exception flags");
            for (int i = 0; i < 4; i++)
            {
                double x = BitConverter.UInt32BitsToSingle(src[i]);
                double exact = sqrt ? 1 / Math.Sqrt(x) : 1 / x;
                double rel = Math.Abs((BitConverter.UInt32BitsToSingle(lanes[i]) - exact) / exact);
                worst = Math.Max(worst, rel);
                Assert.That(rel, Is.LessThanOrEqualTo(1.5 * Math.Pow(2, -12)), $"{name} {src[i]:x8} -> {lanes[i]:x8}");
            }
        }
        TestContext.Out.WriteLine($"{name}: worst relative error {worst:e3}");
    }

    [Test]
    public void ReciprocalSpecialCases()
    {
        uint[] src = [F(0f), F(-0f), 0x0000_0001, 0x8040_0000];
        Assert.That(Run("rcpps", src, new uint[4]).Lanes, Is.EqualTo(new[] { F(float.PositiveInfinity), F(float.NegativeInfinity), F(float.PositiveInfinity), F(float.NegativeInfinity) }),
            "zero and denormal sources are zeros of their sign");
        src = [F(float.PositiveInfinity), F(float.NegativeInfinity), 0x7F00_0000, 0xFF7F_FFFF];
        Assert.That(Run("rcpps", src, new uint[4]).Lanes, Is.EqualTo(new[] { F(0f), F(-0f), F(0f), F(-0f) }),
            "infinities give zeros; tiny results (|x| > 2^126) are flushed to a zero of the operand's sign");
        src = [0x7FA0_0001, 0xFFC1_2345, F(2f), F(-0.25f)];
        Assert.That(Run("rcpps", src, new uint[4]).Lanes, Is.EqualTo(new[] { 0x7FE0_0001u, 0xFFC1_2345, F(0.5f), F(-4f) }),
            "NaNs are returned quieted");
    }

    [Test]
    public void ReciprocalSqrtSpecialCases()
    {
        uint[] src = [F(0f), F(-0f), 0x0000_0010, 0x8000_0010];
        Assert.That(Run("rsqrtps", src, new uint[4]).Lanes, Is.EqualTo(new[] { F(float.PositiveInfinity), F(float.NegativeInfinity), F(float.PositiveInfinity), F(float.NegativeInfinity) }));
        src = [F(float.PositiveInfinity), F(float.NegativeInfinity), F(-1f), F(-1e-30f)];
        Assert.That(Run("rsqrtps", src, new uint[4]).Lanes, Is.EqualTo(new[] { F(0f), 0xFFC0_0000u, 0xFFC0_0000u, 0xFFC0_0000u }),
            "a negative non-zero source (and -inf) gives the QNaN indefinite");
        src = [0x7F80_0001, F(4f), F(0.25f), F(16f)];
        Assert.That(Run("rsqrtps", src, new uint[4]).Lanes, Is.EqualTo(new[] { 0x7FC0_0001u, F(0.5f), F(2f), F(0.25f) }));
    }

    [TestCase("rcpss", false)]
    [TestCase("rcpss", true)]
    [TestCase("rsqrtss", false)]
    [TestCase("rsqrtss", true)]
    public void ScalarFormsKeepTheUpperLanes(string name, bool memory)
    {
        uint[] dest = [1, 0x1234_5678, 0x9ABC_DEF0, 0xFFFF_FFFF];
        var (lanes, _) = Run(name, [F(4f), F(8f), F(9f), F(10f)], dest, memory);
        Assert.That(lanes, Is.EqualTo(new[] { F(name == "rcpss" ? 0.25f : 0.5f), dest[1], dest[2], dest[3] }));
    }
}
