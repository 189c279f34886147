using System.Buffers.Binary;
using Iced.Intel;
using KhoEmu.Cpu.State;
using KhoEmu.Cpu.Tests.X87;
using KhoEmu.Cpu.X87;
using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Cpu.Tests;

/// <summary>
/// Instruction-level differential test of the x87 against the host CPU: a random x87 state (an FXSAVE image: control
/// and status words, abridged tags, eight registers) is FXRSTORed on the host and, through the emulator's own
/// FXRSTOR64, in the emulator; one x87 instruction runs on both (register forms, and memory forms through the RBX
/// buffer); the FXSAVE64 images afterwards (FCW, FSW with C0-C3 and the flags, abridged FTW, ST0-7), the buffer,
/// the general registers and RFLAGS must match. FIP/FDP/FOP are not compared (they hold host addresses, and AMD
/// saves them only with an exception pending). KHOEMU_DIFF_SCALE multiplies the case count.
/// </summary>
[TestFixture, NonParallelizable, Category("Differential")]
public sealed unsafe partial class X87InstructionDifferentialTests
{
    private const int BufferSize = 256;
    private const ulong ImageIn = TestRig.DataBase + 0x1000, ImageOut = TestRig.DataBase + 0x1400;
    private static int Scale => int.TryParse(Environment.GetEnvironmentVariable("KHOEMU_DIFF_SCALE"), out int s) && s > 0 ? s : 1;

    public static IEnumerable<TestCaseData> Cases() =>
        Forms().Select(f => new TestCaseData(f.Name).SetName($"X87Instruction({f.Name})"));

    private static readonly Dictionary<string, X87Form> FormByName = Forms().ToDictionary(f => f.Name);

    [TestCaseSource(nameof(Cases))]
    public void MatchesHostCpu(string name)
    {
        var form = FormByName[name];
        var rnd = new Random(TestSeeds.For(name) ^ 0x87F);
        using var native = new X87NativeExecutor();
        using var rig = new TestRig(model: CpuModels.Max); // FISTTP needs SSE3, which only max advertises
        byte[] prologue = Assemble(a => a.fxrstor64(__[(long)ImageIn]));
        byte[] epilogue = Assemble(a => { a.fxsave64(__[(long)ImageOut]); a.hlt(); });
        int encodings = 8 * Scale, statesPer = 40, mismatches = 0, cases = 0;
        long maxUlp = 0;
        var report = new List<string>();
        byte[] hostBuf = new byte[BufferSize], emuBuf = new byte[BufferSize];
        byte[] image = new byte[512], hostOut = new byte[512], emuOut = new byte[512];
        for (int e = 0; e < encodings; e++)
        {
            byte[] code = Assemble(a => form.Emit(a, rnd));
            var insn = Iced.Intel.Decoder.Create(64, code).Decode();
            byte[] program = [.. prologue, .. code, .. epilogue];
            rig.Memory.Write(TestRig.CodeBase, program);
            ulong hltAt = TestRig.CodeBase + (ulong)program.Length - 1;
            for (int s = 0; s < statesPer; s++)
            {
                RandomImage(rnd, image, form.Dirty);
                if (form.Domain is { } inDomain && !inDomain(StZero(image))) continue;
                rnd.NextBytes(hostBuf);
                FillOperand(rnd, insn, hostBuf);
                var state = new ulong[X87NativeExecutor.StateSlots];
                for (int i = 0; i < 16; i++) state[i] = (ulong)rnd.NextInt64();
                state[16] = ((ulong)rnd.Next() & Rflags.Arith) | Rflags.Reserved1 | Rflags.IF;
                var emuState = (ulong[])state.Clone();
                rig.Memory.Write(TestRig.DataBase, hostBuf);
                rig.Memory.Write(ImageIn, image);

                fixed (byte* hb = hostBuf)
                {
                    state[3] = (ulong)hb;
                    native.Execute(code, state, image, hostOut);
                }

                var cpu = rig.Cpu;
                var reason = RunSnippet(cpu, emuState);
                rig.Memory.Read(TestRig.DataBase, emuBuf);
                rig.Memory.Read(ImageOut, emuOut);
                cases++;
                string? diff = reason != StopReason.InstructionLimit || cpu.InstructionPointer != hltAt
                    ? $"emulator stopped: {reason} at {cpu.InstructionPointer:x} {cpu.Diagnostic}"
                    : Compare(form, state, cpu, hostOut, emuOut, hostBuf, emuBuf, ref maxUlp);
                if (diff is null) continue;
                mismatches++;
                if (report.Count < 6)
                    report.Add($"{insn} [{Convert.ToHexString(code)}]: {diff}\n  in  {DescribeImage(image)}\n  host {DescribeImage(hostOut)}\n  emu  {DescribeImage(emuOut)}");
            }
        }
        if (form.UlpBound > 0) TestContext.Out.WriteLine($"{name}: max distance {maxUlp} ulp over {cases} cases");
        Assert.That(mismatches, Is.Zero, $"{mismatches} of {cases} mismatched\n" + string.Join("\n", report));
    }

    /// <summary>Runs the snippet at the code base on the emulator from the same registers the host started with (RBX
    /// pointing at the data buffer, the rig's stack): the instruction, its image store and the HLT.</summary>
    private static StopReason RunSnippet(Cpu cpu, ulong[] emuState)
    {
        for (int i = 0; i < 16; i++) cpu.SetGpr(i, emuState[i]);
        cpu.SetGpr(Cpu.RBX, TestRig.DataBase);
        cpu.SetGpr(Cpu.RSP, TestRig.StackTop);
        cpu.SetRflags(emuState[16]);
        cpu.InstructionPointer = TestRig.CodeBase;
        return cpu.Run(3);
    }

    private static byte[] Assemble(Action<Assembler> build)
    {
        var a = new Assembler(64);
        build(a);
        using var ms = new MemoryStream();
        a.Assemble(new StreamCodeWriter(ms), TestRig.CodeBase);
        return ms.ToArray();
    }

    /// <summary>
    /// A random x87 state. Exception flags are a subset of the masked ones (a pending unmasked exception would fault the
    /// instruction itself on the host), except for <paramref name="dirty"/> images, which only non-waiting
    /// instructions get: those never check.
    /// </summary>
    private static void RandomImage(Random r, byte[] image, bool dirty)
    {
        Array.Clear(image);
        ushort cw = X87Operands.ControlWord(r, allowUnmasked: true);
        int flags = r.Next(3) == 0 ? r.Next(64) : 0;
        if (!dirty) flags &= cw & 0x3F;
        int sw = flags | (r.Next(16) switch { var c => ((c & 7) << 8) | ((c & 8) << 11) }) | (r.Next(8) << 11);
        if ((flags & 1) != 0 && r.Next(2) == 0) sw |= X87State.StatusSF;
        if (dirty && r.Next(2) == 0) sw |= X87State.StatusES | X87State.StatusB;
        int fill = r.Next(4) switch { 0 => 20, 1 => 60, _ => 90 };
        byte tags = 0;
        for (int i = 0; i < 8; i++) if (r.Next(100) < fill) tags |= (byte)(1 << i);
        BinaryPrimitives.WriteUInt16LittleEndian(image, cw);
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(2), (ushort)sw);
        image[4] = tags;
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(24), 0x1F80);
        for (int i = 0; i < 8; i++)
        {
            var v = X87Operands.Value(r);
            BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(32 + i * 16), v.Significand);
            BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(40 + i * 16), v.SignExponent);
        }
    }

    /// <summary>Puts a value of the operand's type at a memory source (the random fill rarely hits interesting values).</summary>
    private static void FillOperand(Random r, in Instruction insn, byte[] buf)
    {
        if (insn.OpCount == 0 || insn.Op0Kind != OpKind.Memory || r.Next(8) == 0) return;
        var at = buf.AsSpan((int)insn.MemoryDisplacement64);
        switch (insn.MemorySize)
        {
            case MemorySize.Float32: BinaryPrimitives.WriteUInt32LittleEndian(at, X87Operands.Single(r)); break;
            case MemorySize.Float64: BinaryPrimitives.WriteUInt64LittleEndian(at, X87Operands.Double(r)); break;
            case MemorySize.Float80:
                var v = X87Operands.Value(r);
                BinaryPrimitives.WriteUInt64LittleEndian(at, v.Significand);
                BinaryPrimitives.WriteUInt16LittleEndian(at[8..], v.SignExponent);
                break;
            case MemorySize.Int16: BinaryPrimitives.WriteInt16LittleEndian(at, (short)X87Operands.Integer(r)); break;
            case MemorySize.Int32: BinaryPrimitives.WriteInt32LittleEndian(at, (int)X87Operands.Integer(r)); break;
            case MemorySize.Int64: BinaryPrimitives.WriteInt64LittleEndian(at, X87Operands.Integer(r)); break;
            case MemorySize.Bcd:
                var (lo, hi) = X87Operands.Bcd(r);
                BinaryPrimitives.WriteUInt64LittleEndian(at, lo);
                BinaryPrimitives.WriteUInt16LittleEndian(at[8..], (ushort)hi);
                break;
            case MemorySize.UInt16: // FLDCW: random control words, reserved bits included
                BinaryPrimitives.WriteUInt16LittleEndian(at, (ushort)(r.Next(2) == 0 ? X87Operands.ControlWord(r, true) : r.Next(65536)));
                break;
        }
    }

    private static string? Compare(X87Form form, ulong[] host, Cpu cpu, byte[] hostImg, byte[] emuImg, byte[] hostBuf,
        byte[] emuBuf, ref long maxUlp)
    {
        for (int i = 0; i < 16; i++)
        {
            if (i is 3 or 4) continue;
            if (host[i] != cpu.GetGpr(i)) return $"gpr {i}: host {host[i]:x} emu {cpu.GetGpr(i):x}";
        }
        ulong hf = host[16] & Rflags.Arith, ef = cpu.GetRflags() & Rflags.Arith;
        if (hf != ef) return $"rflags: host {hf:x} emu {ef:x}";
        ushort hcw = BinaryPrimitives.ReadUInt16LittleEndian(hostImg), ecw = BinaryPrimitives.ReadUInt16LittleEndian(emuImg);
        if (hcw != ecw) return $"fcw: host {hcw:x4} emu {ecw:x4}";
        ushort hsw = BinaryPrimitives.ReadUInt16LittleEndian(hostImg.AsSpan(2)), esw = BinaryPrimitives.ReadUInt16LittleEndian(emuImg.AsSpan(2));
        if (((hsw ^ esw) & form.SwMask) != 0) return $"fsw: host {hsw:x4} emu {esw:x4}";
        if (hostImg[4] != emuImg[4]) return $"ftw: host {hostImg[4]:x2} emu {emuImg[4]:x2}";
        int top = (hsw >> 11) & 7;
        for (int i = 0; i < 8; i++)
        {
            var h = hostImg.AsSpan(32 + i * 16, 10);
            var e = emuImg.AsSpan(32 + i * 16, 10);
            if (h.SequenceEqual(e)) continue;
            if (form.UlpBound > 0 && (hostImg[4] & (1 << ((top + i) & 7))) != 0)
            {
                long d = Ulps(h, e);
                maxUlp = Math.Max(maxUlp, d);
                if (d <= form.UlpBound) continue;
            }
            return $"st{i} differs";
        }
        for (int i = 0; i < BufferSize; i++)
            if (hostBuf[i] != emuBuf[i]) return $"memory differs at +{i}: host {hostBuf[i]:x2} emu {emuBuf[i]:x2}";
        return null;
    }

    private static Float80 StZero(byte[] image) =>
        new(BinaryPrimitives.ReadUInt64LittleEndian(image.AsSpan(32)), BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(40)));

    private static long Ulps(ReadOnlySpan<byte> h, ReadOnlySpan<byte> e)
    {
        Float80 a = new(BinaryPrimitives.ReadUInt64LittleEndian(h), BinaryPrimitives.ReadUInt16LittleEndian(h[8..]));
        Float80 b = new(BinaryPrimitives.ReadUInt64LittleEndian(e), BinaryPrimitives.ReadUInt16LittleEndian(e[8..]));
        if (a.Sign != b.Sign || a.Exponent == 0x7FFF || b.Exponent == 0x7FFF) return long.MaxValue;
        Int128 Ordinal(Float80 v) => (Int128)v.Exponent * ((Int128)1 << 63) + (Int128)(v.Significand & ~0x8000_0000_0000_0000);
        Int128 d = Int128.Abs(Ordinal(a) - Ordinal(b));
        return d > long.MaxValue ? long.MaxValue : (long)d;
    }

    private static string DescribeImage(byte[] img)
    {
        var sb = new System.Text.StringBuilder();
        sb.Append($"cw={BinaryPrimitives.ReadUInt16LittleEndian(img):x4} sw={BinaryPrimitives.ReadUInt16LittleEndian(img.AsSpan(2)):x4} tw={img[4]:x2}");
        for (int i = 0; i < 8; i++)
            sb.Append($" st{i}={BinaryPrimitives.ReadUInt16LittleEndian(img.AsSpan(40 + i * 16)):x4}:{BinaryPrimitives.ReadUInt64LittleEndian(img.AsSpan(32 + i * 16)):x16}");
        return sb.ToString();
    }
}
