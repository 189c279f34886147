using KhoEmu.Elf;

namespace KhoEmu.Cli;

/// <summary>
/// Writes one line per instruction: count, RIP, the symbol it is in (when the guest's ELF symbols are known), Iced
/// disassembly, then the general registers and flags.
/// </summary>
public sealed class Tracer(TextWriter output, SymbolTable? symbols = null)
{
    private static readonly string[] Names = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];

    public void Step(KhoEmu.Cpu.Cpu cpu)
    {
        ulong rip = cpu.InstructionPointer;
        output.Write($"{cpu.InstructionCount,10} {rip:x16}");
        if (symbols is not null) output.Write($" <{symbols.Describe(rip) ?? "?"}>");
        output.Write($"  {cpu.DescribeInstructionAt(rip),-48}");
        for (int i = 0; i < 16; i++) output.Write($" {Names[i]}={cpu.GetGpr(i):x}");
        output.WriteLine($" rflags={cpu.GetRflags():x}");
    }
}
