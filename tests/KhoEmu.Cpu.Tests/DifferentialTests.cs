using System.Reflection;
using Iced.Intel;
using KhoEmu.Cpu.State;
using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Cpu.Tests;

/// <summary>
/// Differential test against the host CPU: each case is one unprivileged instruction, run natively and in the
/// emulator from the same register state; registers, the flags the instruction defines, and memory must match.
/// The default run covers a few hundred thousand cases; set KHOEMU_DIFF_SCALE (e.g. 10) for millions.
/// </summary>
[TestFixture, NonParallelizable, Category("Differential")]
public sealed unsafe class DifferentialTests
{
    private const int BufferSize = 256;
    private static readonly AssemblerRegister64[] R64 = [rax, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15];
    private static readonly AssemblerRegister32[] R32 = [eax, ecx, edx, esi, edi, ebp, r8d, r9d, r10d, r11d, r12d, r13d, r14d, r15d];
    private static readonly AssemblerRegister16[] R16 = [ax, cx, dx, si, di, bp, r8w, r9w, r10w, r11w, r12w, r13w, r14w, r15w];
    private static readonly AssemblerRegister8[] R8 = [al, cl, dl, sil, dil, bpl, r8b, r9b, r10b, r11b, r12b, r13b, r14b, r15b];

    private static int Scale => int.TryParse(Environment.GetEnvironmentVariable("KHOEMU_DIFF_SCALE"), out int s) && s > 0 ? s : 1;

    /// <summary>A generator emits one random instance of an instruction form into an assembler.</summary>
    private delegate void Form(Assembler a, Random r);

    private static object Reg(int size, Random r) => size switch
    {
        8 => R64[r.Next(R64.Length)],
        4 => R32[r.Next(R32.Length)],
        2 => R16[r.Next(R16.Length)],
        _ => R8[r.Next(R8.Length)],
    };

    private static AssemblerMemoryOperand Mem(int size, Random r)
    {
        int disp = r.Next(0, BufferSize - 16);
        return size switch
        {
            8 => __qword_ptr[rbx + disp],
            4 => __dword_ptr[rbx + disp],
            2 => __word_ptr[rbx + disp],
            _ => __byte_ptr[rbx + disp],
        };
    }

    private static Form Call(string name, params Func<Random, object>[] args) => (a, r) =>
    {
        var values = args.Select(f => f(r)).ToArray();
        var m = typeof(Assembler).GetMethod(name, values.Select(v => v.GetType()).ToArray())
            ?? throw new InvalidOperationException($"Assembler has no {name}({string.Join(", ", values.Select(v => v.GetType().Name))})");
        m.Invoke(a, values);
    };

    private static IEnumerable<(string Name, Form Form)> Forms()
    {
        int[] sizes = [1, 2, 4, 8];
        object Imm(int size, Random r) => size switch
        {
            1 => (object)(byte)r.Next(256),
            2 => (object)(short)r.Next(short.MinValue, short.MaxValue),
            _ => (object)Edge32(r),
        };
        foreach (var op in new[] { "add", "adc", "sub", "sbb", "and", "or", "xor", "cmp", "test" })
            foreach (int s in sizes)
            {
                yield return ($"{op} r{s * 8}, r{s * 8}", Call(op, r => Reg(s, r), r => Reg(s, r)));
                yield return ($"{op} r{s * 8}, imm", Call(op, r => Reg(s, r), r => Imm(s, r)));
                yield return ($"{op} m{s * 8}, r{s * 8}", Call(op, r => Mem(s, r), r => Reg(s, r)));
                if (op != "test") yield return ($"{op} r{s * 8}, m{s * 8}", Call(op, r => Reg(s, r), r => Mem(s, r)));
            }
        foreach (var op in new[] { "inc", "dec", "neg", "not", "mul", "imul" })
            foreach (int s in sizes)
                yield return ($"{op} r{s * 8}", Call(op, r => Reg(s, r)));
        foreach (var op in new[] { "shl", "shr", "sar", "rol", "ror", "rcl", "rcr" })
            foreach (int s in sizes)
            {
                yield return ($"{op} r{s * 8}, imm8", Call(op, r => Reg(s, r), r => (byte)r.Next(0, 70)));
                yield return ($"{op} r{s * 8}, cl", Call(op, r => Reg(s, r), _ => cl));
                yield return ($"{op} m{s * 8}, 1", Call(op, r => Mem(s, r), _ => (byte)1));
            }
        foreach (int s in new[] { 2, 4, 8 })
        {
            yield return ($"imul r{s * 8}, r{s * 8}", Call("imul", r => Reg(s, r), r => Reg(s, r)));
            yield return ($"imul r{s * 8}, r{s * 8}, imm", Call("imul", r => Reg(s, r), r => Reg(s, r), r => s == 2 ? (object)(short)r.Next(-999, 999) : Edge32(r)));
            yield return ($"shld r{s * 8}, r{s * 8}, imm", Call("shld", r => Reg(s, r), r => Reg(s, r), r => (byte)r.Next(0, s * 8)));
            yield return ($"shrd r{s * 8}, r{s * 8}, cl", Call("shrd", r => Reg(s, r), r => Reg(s, r), _ => cl));
            foreach (var op in new[] { "bt", "bts", "btr", "btc" })
            {
                yield return ($"{op} r{s * 8}, r{s * 8}", Call(op, r => Reg(s, r), r => Reg(s, r)));
                yield return ($"{op} r{s * 8}, imm8", Call(op, r => Reg(s, r), r => (byte)r.Next(0, 256)));
            }
            yield return ($"bsf r{s * 8}, r{s * 8}", Call("bsf", r => Reg(s, r), r => Reg(s, r)));
            yield return ($"bsr r{s * 8}, r{s * 8}", Call("bsr", r => Reg(s, r), r => Reg(s, r)));
            yield return ($"popcnt r{s * 8}, r{s * 8}", Call("popcnt", r => Reg(s, r), r => Reg(s, r)));
            yield return ($"xadd r{s * 8}, r{s * 8}", Call("xadd", r => Reg(s, r), r => Reg(s, r)));
            yield return ($"cmpxchg m{s * 8}, r{s * 8}", Call("cmpxchg", r => Mem(s, r), r => Reg(s, r)));
            yield return ($"xchg r{s * 8}, r{s * 8}", Call("xchg", r => Reg(s, r), r => Reg(s, r)));
            yield return ($"cmovl r{s * 8}, r{s * 8}", Call("cmovl", r => Reg(s, r), r => Reg(s, r)));
            yield return ($"cmovbe r{s * 8}, m{s * 8}", Call("cmovbe", r => Reg(s, r), r => Mem(s, r)));
            yield return ($"movzx r{s * 8}, r8", Call("movzx", r => Reg(s, r), r => Reg(1, r)));
            yield return ($"movsx r{s * 8}, r8", Call("movsx", r => Reg(s, r), r => Reg(1, r)));
            yield return ($"lea r{s * 8}, m", Call("lea", r => Reg(s, r), r => __[R64[r.Next(R64.Length)] + R64[r.Next(R64.Length)] * 4 + r.Next(-100, 100)]));
        }
        yield return ("movsxd r64, r32", Call("movsxd", r => Reg(8, r), r => Reg(4, r)));
        yield return ("movnti m32, r32", Call("movnti", r => Mem(4, r), r => Reg(4, r)));
        yield return ("movnti m64, r64", Call("movnti", r => Mem(8, r), r => Reg(8, r)));
        yield return ("bswap r32", Call("bswap", r => Reg(4, r)));
        yield return ("bswap r64", Call("bswap", r => Reg(8, r)));
        foreach (var cc in new[] { "seto", "setb", "setbe", "setl", "setle", "setp", "sets", "setne" })
            yield return ($"{cc} r8", Call(cc, r => Reg(1, r)));
        foreach (var op in new[] { "cbw", "cwde", "cdqe", "cwd", "cdq", "cqo", "clc", "stc", "cmc", "lahf", "sahf" })
            yield return (op, Call(op));
        foreach (int s in sizes)
        {
            yield return ($"div r{s * 8}", (a, r) => Call("div", rr => Reg(s, rr))(a, r));
            yield return ($"idiv r{s * 8}", (a, r) => Call("idiv", rr => Reg(s, rr))(a, r));
        }
    }

    private static object Edge32(Random r) => r.Next(6) switch
    {
        0 => 0,
        1 => -1,
        2 => int.MinValue,
        3 => int.MaxValue,
        4 => 1,
        _ => r.Next(int.MinValue, int.MaxValue),
    };

    private static ulong RandomValue(Random r) => r.Next(8) switch
    {
        0 => 0,
        1 => ulong.MaxValue,
        2 => 0x8000_0000_0000_0000UL,
        3 => 0x7FFF_FFFF_FFFF_FFFFUL,
        4 => (ulong)r.Next(0, 300),
        5 => 0x0000_0000_8000_0000UL ^ (ulong)r.Next(0, 3),
        _ => (ulong)r.NextInt64() ^ ((ulong)r.Next() << 40),
    };

    public static IEnumerable<TestCaseData> Cases() =>
        Forms().Select(f => new TestCaseData(f.Name).SetName($"Differential({f.Name})"));

    private static readonly Dictionary<string, Form> FormByName = Forms().ToDictionary(f => f.Name, f => f.Form);

    [TestCaseSource(nameof(Cases))]
    public void MatchesHostCpu(string form)
    {
        var gen = FormByName[form];
        var rnd = new Random(TestSeeds.For(form) ^ 0x5EED);
        using var native = new NativeExecutor();
        using var rig = new TestRig();
        byte[] hostBuffer = new byte[BufferSize];
        int encodings = 12 * Scale, statesPer = 150;
        int mismatches = 0;
        var report = new List<string>();
        for (int e = 0; e < encodings; e++)
        {
            var asm = new Assembler(64);
            gen(asm, rnd);
            using var ms = new MemoryStream();
            asm.Assemble(new StreamCodeWriter(ms), TestRig.CodeBase);
            byte[] code = ms.ToArray();
            var decoder = Iced.Intel.Decoder.Create(64, code);
            decoder.IP = TestRig.CodeBase;
            var insn = decoder.Decode();
            ulong definedMask = DefinedFlags(insn);
            rig.Memory.Write(TestRig.CodeBase, code);
            rig.Memory.WritePhys(TestRig.CodeBase + (ulong)code.Length, 1, 0xF4);
            for (int s = 0; s < statesPer; s++)
            {
                var state = new ulong[NativeExecutor.StateSlots];
                for (int i = 0; i < 16; i++) state[i] = RandomValue(rnd);
                state[16] = (ulong)rnd.Next() & (Rflags.Arith) | Rflags.Reserved1 | Rflags.IF;
                rnd.NextBytes(hostBuffer);
                if (!MakeDivisionSafe(insn, state) || UndefinedResult(insn, state)) continue;

                var emuState = (ulong[])state.Clone();
                emuState[3] = TestRig.DataBase;
                rig.Memory.Write(TestRig.DataBase, hostBuffer);

                fixed (byte* hb = hostBuffer)
                {
                    state[3] = (ulong)hb;
                    native.Execute(code, state);
                }

                var cpu = rig.Cpu;
                for (int i = 0; i < 16; i++) if (i != 4) cpu.SetGpr(i, emuState[i]);
                cpu.SetGpr(4, TestRig.StackTop);
                cpu.SetRflags(emuState[16]);
                cpu.InstructionPointer = TestRig.CodeBase;
                var reason = cpu.Run(1);
                var emuBuffer = new byte[BufferSize];
                rig.Memory.Read(TestRig.DataBase, emuBuffer);

                string? diff = Compare(state, cpu, definedMask, hostBuffer, emuBuffer, reason);
                if (diff is null) continue;
                mismatches++;
                if (report.Count < 5)
                    report.Add($"{insn} [{Convert.ToHexString(code)}]: {diff}; input {string.Join(' ', emuState.Take(17).Select(v => v.ToString("x")))}");
            }
        }
        Assert.That(mismatches, Is.Zero, string.Join("\n", report));
    }

    private static unsafe string? Compare(ulong[] host, Cpu cpu, ulong definedMask, byte[] hostBuf, byte[] emuBuf, StopReason reason)
    {
        if (reason != StopReason.InstructionLimit) return $"emulator stopped: {reason} {cpu.Diagnostic}";
        for (int i = 0; i < 16; i++)
        {
            if (i == 4) continue;
            ulong h = host[i], e = cpu.GetGpr(i);
            if (i == 3) { h -= host[3]; e -= TestRig.DataBase; }
            if (i == 3 && (h != 0 || e != 0)) { /* RBX carries the buffer base; a write to it is compared relative */ }
            if (h != e && i != 3) return $"{(i < 8 ? new[] { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi" }[i] : $"r{i}")}: host {h:x} emu {e:x}";
        }
        ulong hf = host[16] & definedMask, ef = cpu.GetRflags() & definedMask;
        if (hf != ef) return $"rflags (mask {definedMask:x}): host {hf:x} emu {ef:x}";
        if (!hostBuf.AsSpan().SequenceEqual(emuBuf)) return "memory differs";
        return null;
    }

    /// <summary>Flags the instruction writes with defined values, as RFLAGS bits (Iced's RflagsBits use another order).</summary>
    private static ulong DefinedFlags(in Instruction insn)
    {
        ulong defined = ToRflags((insn.RflagsModified | insn.RflagsRead) & ~insn.RflagsUndefined);
        // Flags the instruction leaves alone must be unchanged too.
        ulong untouched = Rflags.Arith & ~ToRflags(insn.RflagsModified | insn.RflagsUndefined);
        // OF after a shift or rotate is defined only for a count of 1 (SDM vol. 2, SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR).
        bool shiftOrRotate = insn.Mnemonic is Mnemonic.Shl or Mnemonic.Shr or Mnemonic.Sar or Mnemonic.Rol or Mnemonic.Ror
            or Mnemonic.Rcl or Mnemonic.Rcr or Mnemonic.Shld or Mnemonic.Shrd;
        bool countOne = insn.OpCount == 2 && insn.Op1Kind == OpKind.Immediate8 && insn.Immediate8 == 1;
        ulong mask = defined | untouched;
        return shiftOrRotate && !countOne ? mask & ~Rflags.OF : mask;
    }

    private static ulong ToRflags(RflagsBits bits)
    {
        ulong m = 0;
        if ((bits & RflagsBits.OF) != 0) m |= Rflags.OF;
        if ((bits & RflagsBits.SF) != 0) m |= Rflags.SF;
        if ((bits & RflagsBits.ZF) != 0) m |= Rflags.ZF;
        if ((bits & RflagsBits.AF) != 0) m |= Rflags.AF;
        if ((bits & RflagsBits.CF) != 0) m |= Rflags.CF;
        if ((bits & RflagsBits.PF) != 0) m |= Rflags.PF;
        return m;
    }

    /// <summary>SHLD/SHRD of 16-bit operands by more than 16 leave the result undefined (SDM vol. 2, SHLD).</summary>
    private static bool UndefinedResult(in Instruction insn, ulong[] state) =>
        insn.Mnemonic is Mnemonic.Shld or Mnemonic.Shrd && insn.Op0Register.GetSize() == 2
        && ((insn.Op2Kind == OpKind.Register ? state[1] : insn.Immediate8) & 31) > 16;

    /// <summary>DIV/IDIV must not fault on the host (it would kill the test process): shape the dividend.</summary>
    private static bool MakeDivisionSafe(in Instruction insn, ulong[] state)
    {
        if (insn.Mnemonic is not (Mnemonic.Div or Mnemonic.Idiv)) return true;
        int size = insn.Op0Register.GetSize();
        int reg = insn.Op0Register.GetFullRegister() - Register.RAX;
        ulong mask = size == 8 ? ulong.MaxValue : (1UL << (size * 8)) - 1;
        if (size == 1 && insn.Op0Register is >= Register.SPL and <= Register.DIL) reg = insn.Op0Register - Register.SPL + 4;
        if ((state[reg] & mask) == 0) state[reg] |= 1;
        ulong divisor = state[reg] & mask;
        if (insn.Mnemonic == Mnemonic.Div)
        {
            // High half of the dividend below the divisor guarantees the quotient fits.
            if (size == 1) state[0] = (state[0] & ~0xFF00UL) | ((divisor == 0 ? 0 : (state[0] >> 8) % divisor & 0xFF) << 8);
            else state[2] = (state[2] & ~mask) | ((state[2] & mask) % divisor);
            return reg != 0 && reg != 2 || size == 1 && reg != 0;
        }
        // IDIV: sign-extend the low half into the high half, and avoid MIN / -1.
        if (reg == 0 || reg == 2) return false;
        ulong lo = state[0] & mask;
        bool neg = ((lo >> (size * 8 - 1)) & 1) != 0;
        if (size == 1)
        {
            ulong ax = (ulong)(short)(sbyte)(byte)lo & 0xFFFF;
            state[0] = (state[0] & ~0xFFFFUL) | ax;
        }
        else state[2] = (state[2] & ~mask) | (neg ? mask : 0);
        ulong minSigned = 1UL << (size * 8 - 1);
        return !(lo == minSigned && divisor == mask);
    }
}
