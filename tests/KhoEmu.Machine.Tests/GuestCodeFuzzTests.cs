using Iced.Intel;
using KhoEmu.Machine.Boot;
using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Machine.Tests;

/// <summary>
/// Random guest code on the whole machine: whatever bytes the guest executes (in 32-bit protected mode straight from
/// the PVH entry, in 64-bit mode after the demo guest's switch to long mode, or in 64-bit mode with an IDT whose 256
/// gates lead back into the random code, so exceptions and interrupts keep it going), the run ends in one of the
/// machine's defined outcomes and the host never sees an exception. Devices, ports and MMIO are all reachable.
/// The default run is short; KHOEMU_FUZZ_SCALE=N runs N times as many programs.
/// </summary>
[Category("Fuzz")]
public sealed class GuestCodeFuzzTests
{
    private static int Scale => int.TryParse(Environment.GetEnvironmentVariable("KHOEMU_FUZZ_SCALE"), out int s) && s > 0 ? s : 1;

    public enum Mode { Protected32, Long64, Long64WithIdt }

    [TestCase(Mode.Protected32, 20261123)]
    [TestCase(Mode.Long64, 20261124)]
    [TestCase(Mode.Long64WithIdt, 20261125)]
    public void RandomCodeEndsInADefinedExit(Mode mode, int seed)
    {
        var rng = new Random(seed);
        var kinds = new Dictionary<ExitKind, int>();
        var unsupported = new Dictionary<string, int>();
        ulong instructions = 0;
        int programs = 150 * Scale;
        for (int i = 0; i < programs; i++)
        {
            using var m = new PcMachine(new MachineConfig { SerialOutput = Stream.Null });
            var code = new byte[64 * 1024];
            rng.NextBytes(code);
            // Long mode: keep the demo's 32-bit set-up and replace the 64-bit code; otherwise replace the entry itself.
            if (mode == Mode.Long64WithIdt) InstallIdt(m, rng, code);
            m.Memory.Write(mode == Mode.Protected32 ? DemoGuest.Entry32 : DemoGuest.Entry64, code);
            MachineExit exit = null!;
            Assert.DoesNotThrow(() => exit = m.Run(200_000), $"program {i} ({mode}, seed {seed})");
            Assert.That(exit.Kind, Is.AnyOf(ExitKind.TripleFault, ExitKind.InstructionLimit, ExitKind.HaltedForever,
                ExitKind.DebugExit, ExitKind.Unsupported), $"program {i}: {exit.Diagnostic}");
            if (exit.Kind == ExitKind.Unsupported)
            {
                Assert.That(exit.Diagnostic, Is.Not.Empty, "an unsupported stop says what it met");
                string why = exit.Diagnostic!.Split(" at RIP=")[0];
                why = why.StartsWith("instruction fetch from") ? "fetch outside RAM or ROM" : why;
                unsupported[why] = unsupported.GetValueOrDefault(why) + 1;
            }
            kinds[exit.Kind] = kinds.GetValueOrDefault(exit.Kind) + 1;
            instructions += m.Cpu.InstructionCount;
        }
        Assert.That(instructions, Is.GreaterThan((ulong)programs), "the random programs actually ran");
        TestContext.Out.WriteLine($"{programs} programs, {instructions} instructions: "
            + string.Join(", ", kinds.OrderBy(k => k.Key).Select(k => $"{k.Key} {k.Value}")));
        foreach (var (why, n) in unsupported.OrderByDescending(u => u.Value)) TestContext.Out.WriteLine($"  unsupported {n}x: {why}");
    }

    private const ulong Idt = 0x30_0000, RandomStart = DemoGuest.Entry64 + 0x100;

    /// <summary>
    /// Starts the 64-bit code with a prologue (stack, LIDT) and builds an IDT whose gates (64-bit code selector 0x18 of
    /// the boot GDT, random DPL) point at random places in the random code that follows.
    /// </summary>
    private static void InstallIdt(PcMachine m, Random rng, byte[] code)
    {
        var gates = new byte[256 * 16];
        for (int v = 0; v < 256; v++)
        {
            ulong target = RandomStart + (ulong)rng.Next(code.Length - 0x200);
            ulong lo = (target & 0xFFFF) | (0x18UL << 16) | ((0x8EUL | ((ulong)rng.Next(4) << 5)) << 40) | ((target >> 16) & 0xFFFF) << 48;
            BitConverter.GetBytes(lo).CopyTo(gates, v * 16);
            BitConverter.GetBytes(target >> 32).CopyTo(gates, v * 16 + 8);
        }
        m.Memory.Write(Idt, gates);
        var idtr = new byte[10];
        BitConverter.GetBytes((ushort)(gates.Length - 1)).CopyTo(idtr, 0);
        BitConverter.GetBytes(Idt).CopyTo(idtr, 2);
        m.Memory.Write(Idt - 16, idtr);
        var a = new Assembler(64);
        a.mov(rsp, 0x9_0000);
        a.mov(rax, Idt - 16);
        a.lidt(__[rax]);
        a.mov(rax, RandomStart);
        a.jmp(rax);
        using var ms = new MemoryStream();
        a.Assemble(new StreamCodeWriter(ms), DemoGuest.Entry64);
        ms.ToArray().CopyTo(code, 0);
    }
}
