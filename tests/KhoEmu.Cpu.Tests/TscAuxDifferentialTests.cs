using System.Runtime.InteropServices;
using Iced.Intel;
using KhoEmu.Cpu.State;
using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Cpu.Tests;

/// <summary>
/// RDPID and RDTSCP against the host. The host's IA32_TSC_AUX is Linux's (node &lt;&lt; 12) | cpu, so the test thread is
/// pinned to the CPU it runs on and the emulator's TSC_AUX is set to that value: RDPID must return the same register
/// contents, RDTSCP the same ECX (and zero upper halves of RAX, RDX and RCX), both leaving the flags alone.
/// </summary>
[TestFixture, NonParallelizable, Category("Differential")]
public sealed unsafe class TscAuxDifferentialTests
{
    [DllImport("libc", SetLastError = true)] private static extern int sched_getaffinity(int pid, nint size, byte* mask);
    [DllImport("libc", SetLastError = true)] private static extern int sched_setaffinity(int pid, nint size, byte* mask);
    [DllImport("libc")] private static extern int getcpu(uint* cpu, uint* node);

    [TestCase("rdpid rax")]
    [TestCase("rdtscp")]
    public void MatchesHostCpu(string form)
    {
        byte[] code = Assemble(a => { if (form == "rdtscp") a.rdtscp(); else a.rdpid(rax); });
        byte* saved = stackalloc byte[128], one = stackalloc byte[128];
        Assert.That(sched_getaffinity(0, 128, saved), Is.Zero);
        uint cpuNo, node;
        getcpu(&cpuNo, &node);
        new Span<byte>(one, 128).Clear();
        one[cpuNo / 8] = (byte)(1 << (int)(cpuNo % 8));
        Assert.That(sched_setaffinity(0, 128, one), Is.Zero);
        try
        {
            getcpu(&cpuNo, &node);
            ulong aux = (node << 12) | cpuNo;
            using var native = new NativeExecutor();
            using var rig = new TestRig(model: CpuModels.Max);
            var cpu = rig.Cpu;
            rig.Load(a => { a.mov(ecx, Msr.TscAux); a.mov(eax, (uint)aux); a.xor(edx, edx); a.wrmsr(); });
            Assert.That(cpu.Run(4), Is.EqualTo(StopReason.InstructionLimit), cpu.Diagnostic);
            rig.Memory.Write(TestRig.CodeBase, code);
            var rnd = new Random(TestSeeds.For(form));
            for (int s = 0; s < 200; s++)
            {
                var state = new ulong[NativeExecutor.StateSlots];
                for (int i = 0; i < 16; i++) state[i] = (ulong)rnd.NextInt64();
                state[16] = ((ulong)rnd.Next() & Rflags.Arith) | Rflags.Reserved1 | Rflags.IF;
                var emu = (ulong[])state.Clone();
                native.Execute(code, state);
                for (int i = 0; i < 16; i++) if (i != 4) cpu.SetGpr(i, emu[i]);
                cpu.SetRflags(emu[16]);
                cpu.InstructionPointer = TestRig.CodeBase;
                Assert.That(cpu.Run(1), Is.EqualTo(StopReason.InstructionLimit), cpu.Diagnostic);
                Assert.That(cpu.GetRflags() & Rflags.Arith, Is.EqualTo(state[16] & Rflags.Arith), "flags unchanged");
                if (form == "rdtscp")
                {
                    Assert.That(cpu.GetGpr(Cpu.RCX), Is.EqualTo(state[Cpu.RCX]).And.EqualTo(aux), "ECX = TSC_AUX, zero-extended");
                    Assert.That(state[Cpu.RAX] >> 32 | state[Cpu.RDX] >> 32, Is.Zero);
                    Assert.That(cpu.GetGpr(Cpu.RAX) >> 32 | cpu.GetGpr(Cpu.RDX) >> 32, Is.Zero);
                }
                else Assert.That(cpu.GetGpr(Cpu.RAX), Is.EqualTo(state[Cpu.RAX]).And.EqualTo(aux));
                foreach (int i in new[] { Cpu.RBX, Cpu.RSI, Cpu.RDI, 8, 15 })
                    Assert.That(cpu.GetGpr(i), Is.EqualTo(state[i]), $"GPR {i} untouched");
            }
        }
        finally
        {
            sched_setaffinity(0, 128, saved);
        }
    }

    private static byte[] Assemble(Action<Assembler> build)
    {
        var a = new Assembler(64);
        build(a);
        using var ms = new MemoryStream();
        a.Assemble(new StreamCodeWriter(ms), TestRig.CodeBase);
        return ms.ToArray();
    }
}
