using Iced.Intel;
using KhoEmu.Cpu.State;
using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Cpu.Tests;

/// <summary>
/// SSE/SSE2/SSE3 floating-point arithmetic, SQRT, compares and conversions against the host CPU
/// (<see cref="X87NativeExecutor"/> runs the instruction between an FXRSTOR64 and an FXSAVE64 of the same image in
/// both). Each case draws MXCSR with every exception masked and a random RC, FTZ and DAZ (sometimes with sticky flags)
/// and lanes from <see cref="SseFloatInputs"/>; XMM0, XMM1, MXCSR, RAX and the arithmetic flags must match bit for bit.
/// Unmasked exceptions cannot run natively without a signal handler: <see cref="SseFloatExceptionTests"/> covers them.
/// </summary>
[TestFixture, NonParallelizable, Category("Differential")]
public sealed class SseFloatDifferentialTests
{
    private const ulong ImageIn = TestRig.DataBase + 0x1000, ImageOut = TestRig.DataBase + 0x1400;
    private const int Iterations = 2500;

    private static readonly string[] Arith = ["add", "sub", "mul", "div", "sqrt"];
    private static readonly string[] Suffixes = ["ss", "sd", "ps", "pd"];

    public static IEnumerable<string> Cases()
    {
        foreach (var a in Arith) foreach (var s in Suffixes) yield return a + s;
        foreach (var s in Suffixes) for (int p = 0; p < 8; p++) yield return $"cmp{s} {p}";
        foreach (var n in new[] { "comiss", "comisd", "ucomiss", "ucomisd", "cvtss2sd", "cvtsd2ss", "cvtps2pd", "cvtpd2ps",
            "cvtdq2ps", "cvtdq2pd", "cvtps2dq", "cvttps2dq", "cvtpd2dq", "cvttpd2dq", "addsubps", "addsubpd", "haddps",
            "haddpd", "hsubps", "hsubpd" }) yield return n;
        foreach (var n in new[] { "cvtss2si", "cvttss2si", "cvtsd2si", "cvttsd2si" }) { yield return n + " r32"; yield return n + " r64"; }
        yield return "cvtsi2ss r32";
        yield return "cvtsi2ss r64";
        yield return "cvtsi2sd r32";
        yield return "cvtsi2sd r64";
    }

    private static bool DoubleSource(string name) =>
        name.EndsWith("sd", StringComparison.Ordinal) || name.EndsWith("pd", StringComparison.Ordinal)
        || name.StartsWith("cvtsd", StringComparison.Ordinal) || name.StartsWith("cvtpd", StringComparison.Ordinal)
        || name.StartsWith("cvttsd", StringComparison.Ordinal) || name.StartsWith("cvttpd", StringComparison.Ordinal);

    private static byte[] Instruction(string form)
    {
        string[] parts = form.Split(' ');
        string name = parts[0];
        var a = new Assembler(64);
        if (name.StartsWith("cmp", StringComparison.Ordinal))
            typeof(Assembler).GetMethod(name, [typeof(AssemblerRegisterXMM), typeof(AssemblerRegisterXMM), typeof(byte)])!
                .Invoke(a, [xmm0, xmm1, byte.Parse(parts[1])]);
        else if (name.StartsWith("cvtsi2", StringComparison.Ordinal))
        {
            object src = parts[1] == "r32" ? eax : rax;
            typeof(Assembler).GetMethod(name, [typeof(AssemblerRegisterXMM), src.GetType()])!.Invoke(a, [xmm0, src]);
        }
        else if (parts.Length == 2)
        {
            object dst = parts[1] == "r32" ? eax : rax;
            typeof(Assembler).GetMethod(name, [dst.GetType(), typeof(AssemblerRegisterXMM)])!.Invoke(a, [dst, xmm1]);
        }
        else typeof(Assembler).GetMethod(name, [typeof(AssemblerRegisterXMM), typeof(AssemblerRegisterXMM)])!.Invoke(a, [xmm0, xmm1]);
        a.pushfq();
        a.pop(rcx);
        using var ms = new MemoryStream();
        a.Assemble(new StreamCodeWriter(ms), TestRig.CodeBase);
        return ms.ToArray();
    }

    [TestCaseSource(nameof(Cases))]
    public void MatchesHostCpu(string form)
    {
        string name = form.Split(' ')[0];
        bool dbl = DoubleSource(name);
        bool sums = name.Contains("add", StringComparison.Ordinal) || name.Contains("sub", StringComparison.Ordinal);
        var rnd = new Random(TestSeeds.For(form));
        using var native = new X87NativeExecutor();
        using var rig = new TestRig(model: CpuModels.Max); // SSE3 is in max
        byte[] code = Instruction(form);
        byte[] program = [.. Asm(a => a.fxrstor64(__[(long)ImageIn])), .. code, .. Asm(a => { a.fxsave64(__[(long)ImageOut]); a.hlt(); })];
        rig.Memory.Write(TestRig.CodeBase, program);
        byte[] image = new byte[512], hostOut = new byte[512], emuOut = new byte[512];
        int mismatches = 0;
        var report = new List<string>();
        for (int n = 0; n < Iterations; n++)
        {
            Array.Clear(image);
            BitConverter.TryWriteBytes(image.AsSpan(0), (ushort)0x037F);
            uint mxcsr = SseFloatInputs.Mxcsr(rnd);
            BitConverter.TryWriteBytes(image.AsSpan(24), mxcsr);
            ulong[] q = new ulong[4];
            for (int i = 0; i < 4; i++) q[i] = Qword(rnd, dbl);
            if (sums && n % 4 == 1) (q[2], q[3]) = (Halfway(rnd, q[0], dbl), Halfway(rnd, q[1], dbl));
            if (sums && n % 4 == 2) q[0] = dbl ? q[0] : (q[0] & 0xFFFF_FFFF) | (ulong)SseFloatInputs.Halfway32(rnd, (uint)q[0]) << 32;
            if (sums && n % 4 == 2 && dbl) q[1] = SseFloatInputs.Halfway64(rnd, q[0]);
            if (n % 16 == 3) (q[2], q[3]) = (q[0], q[1]);
            for (int i = 0; i < 4; i++) BitConverter.TryWriteBytes(image.AsSpan(160 + 8 * i), q[i]);
            ulong rax = SseFloatInputs.Integer(rnd);
            var state = new ulong[X87NativeExecutor.StateSlots];
            state[0] = rax;
            state[16] = 0x202;
            native.Execute(code, state, image, hostOut);
            rig.Memory.Write(ImageIn, image);
            rig.Cpu.SetGpr(0, rax);
            rig.Cpu.SetGpr(1, 0);
            rig.Cpu.InstructionPointer = TestRig.CodeBase;
            var reason = rig.Cpu.Run(5);
            rig.Memory.Read(ImageOut, emuOut);
            const ulong Arithmetic = 0x8D5;
            string? diff = reason != StopReason.InstructionLimit ? $"emulator stopped: {reason} {rig.Cpu.Diagnostic}"
                : !hostOut.AsSpan(160, 32).SequenceEqual(emuOut.AsSpan(160, 32)) ? "xmm0/xmm1 differ"
                : BitConverter.ToUInt32(hostOut, 24) != BitConverter.ToUInt32(emuOut, 24) ? "mxcsr differs"
                : state[0] != rig.Cpu.GetGpr(0) ? $"rax differs: host {state[0]:x} emu {rig.Cpu.GetGpr(0):x}"
                : (state[1] & Arithmetic) != (rig.Cpu.GetGpr(1) & Arithmetic) ? $"rflags differ: host {state[1] & Arithmetic:x} emu {rig.Cpu.GetGpr(1) & Arithmetic:x}"
                : null;
            if (diff is null) continue;
            mismatches++;
            if (report.Count < 8)
                report.Add($"{diff}: mxcsr {mxcsr:x} xmm0 {q[1]:x16}{q[0]:x16} xmm1 {q[3]:x16}{q[2]:x16} rax {rax:x}"
                    + $" -> host {Convert.ToHexString(hostOut, 160, 16)} mxcsr {BitConverter.ToUInt32(hostOut, 24):x}, emu {Convert.ToHexString(emuOut, 160, 16)} mxcsr {BitConverter.ToUInt32(emuOut, 24):x}");
        }
        Assert.That(mismatches, Is.Zero, $"{mismatches} of {Iterations} differ\n" + string.Join("\n", report));
    }

    private static ulong Qword(Random r, bool dbl) =>
        dbl ? SseFloatInputs.Lane64(r) : SseFloatInputs.Lane32(r) | (ulong)SseFloatInputs.Lane32(r) << 32;

    private static ulong Halfway(Random r, ulong a, bool dbl) => dbl
        ? SseFloatInputs.Halfway64(r, a)
        : SseFloatInputs.Halfway32(r, (uint)a) | (ulong)SseFloatInputs.Halfway32(r, (uint)(a >> 32)) << 32;

    private static byte[] Asm(Action<Assembler> build)
    {
        var a = new Assembler(64);
        build(a);
        using var ms = new MemoryStream();
        a.Assemble(new StreamCodeWriter(ms), TestRig.CodeBase);
        return ms.ToArray();
    }
}
