using KhoEmu.Cpu.X87;
using NUnit.Framework;

namespace KhoEmu.Cpu.Tests.X87;

/// <summary>
/// SoftFloat80 against the host's x87: each case runs one operation natively (an Iced-assembled thunk) and in
/// software from the same control word and operands; the stored result bits, the six exception flags and the
/// condition codes the instruction defines must match bit for bit (transcendentals: within the documented ulp
/// bound). About 1.3 million cases by default; KHOEMU_DIFF_SCALE multiplies them.
/// </summary>
[TestFixture, NonParallelizable, Category("Differential")]
public sealed unsafe class X87DifferentialTests
{
    private const int MaxReported = 25;
    private static int Scale => int.TryParse(Environment.GetEnvironmentVariable("KHOEMU_DIFF_SCALE"), out int s) && s > 0 ? s : 1;

    public static IEnumerable<TestCaseData> Cases() =>
        X87Ops.All().Select(op => new TestCaseData(op.Name).SetName($"X87Differential({op.Name})"));

    [TestCaseSource(nameof(Cases))]
    public void MatchesHost(string name)
    {
        X87Op op = X87Ops.All().Single(o => o.Name == name);
        using var thunk = new X87Thunk(op.Body);
        var rnd = new Random(TestSeeds.For(name) ^ 0x87);
        int cases = op.Cases * Scale, mismatches = 0;
        long maxUlp = 0;
        var report = new List<string>();
        for (int i = 0; i < cases; i++)
        {
            var input = new X87Block();
            op.Operands(rnd, ref input);
            X87Block host = input, soft = input;
            thunk.Run(&host);
            op.Soft(ref soft);
            string? why = Difference(op, input.Cw, host, soft, ref maxUlp);
            if (why == null) continue;
            if (++mismatches <= MaxReported) report.Add($"{why}: {Describe(op, input, host, soft)}");
        }
        if (op.UlpBound > 0) TestContext.Out.WriteLine($"{name}: max distance {maxUlp} ulp over {cases} cases");
        Assert.That(mismatches, Is.Zero, $"{mismatches} of {cases} mismatched\n" + string.Join("\n", report));
    }

    private static string? Difference(X87Op op, ushort cw, in X87Block host, in X87Block soft, ref long maxUlp)
    {
        if (((host.Sw ^ soft.Sw) & op.SwMask) != 0) return "status word";
        if (((host.Flags ^ soft.Flags) & op.RflagsMask) != 0) return "rflags";
        int unmasked = host.Sw & ~cw & (op.MemoryStore ? 0x1F : 0x07);
        if (unmasked != 0) return null; // the destination is not written
        if (op.UlpBound > 0)
        {
            long d = Math.Max(Ulps(op.R1Bytes, host.R10, host.R11, soft.R10, soft.R11), Ulps(op.R2Bytes, host.R20, host.R21, soft.R20, soft.R21));
            maxUlp = Math.Max(maxUlp, d);
            return d > op.UlpBound ? $"{d} ulp apart" : null;
        }
        if (!Same(op.R1Bytes, host.R10, host.R11, soft.R10, soft.R11)) return "result";
        if (!Same(op.R2Bytes, host.R20, host.R21, soft.R20, soft.R21)) return "second result";
        return null;
    }

    private static bool Same(int bytes, ulong h0, ulong h1, ulong s0, ulong s1) => bytes switch
    {
        0 => true,
        10 => h0 == s0 && (ushort)h1 == (ushort)s1,
        8 => h0 == s0,
        _ => ((h0 ^ s0) & ((1UL << (8 * bytes)) - 1)) == 0,
    };

    /// <summary>Distance in ulps between two 80-bit results of the same sign class; NaN/inf/zero must be equal.</summary>
    private static long Ulps(int bytes, ulong h0, ulong h1, ulong s0, ulong s1)
    {
        if (bytes == 0 || Same(bytes, h0, h1, s0, s1)) return 0;
        Float80 h = new(h0, (ushort)h1), s = new(s0, (ushort)s1);
        if (h.Sign != s.Sign || h.Exponent == 0x7FFF || s.Exponent == 0x7FFF) return long.MaxValue;
        Int128 Ordinal(Float80 v) => (Int128)(v.Exponent == 0 ? 1 : v.Exponent) * ((Int128)1 << 63)
            + (v.Exponent == 0 ? (Int128)v.Significand : (Int128)(v.Significand & ~0x8000_0000_0000_0000));
        Int128 d = Int128.Abs(Ordinal(h) - Ordinal(s));
        return d > long.MaxValue ? long.MaxValue : (long)d;
    }

    private static string Describe(X87Op op, in X87Block input, in X87Block host, in X87Block soft) =>
        $"{op.Name} cw={input.Cw:X4} a={input.A1 & 0xFFFF:X4}:{input.A0:X16} b={input.B1 & 0xFFFF:X4}:{input.B0:X16}" +
        $" | host r1={host.R11 & 0xFFFF:X4}:{host.R10:X16} r2={host.R21 & 0xFFFF:X4}:{host.R20:X16} sw={host.Sw & op.SwMask:X4} fl={host.Flags & op.RflagsMask:X}" +
        $" | soft r1={soft.R11 & 0xFFFF:X4}:{soft.R10:X16} r2={soft.R21 & 0xFFFF:X4}:{soft.R20:X16} sw={soft.Sw & op.SwMask:X4} fl={soft.Flags & op.RflagsMask:X}";
}
