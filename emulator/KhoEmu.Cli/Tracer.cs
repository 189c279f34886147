using KhoEmu.Cpu;

namespace KhoEmu.Cli;

/// <summary>Writes one line per instruction: count, RIP, Iced disassembly, then the general registers and flags.</summary>
public sealed class Tracer(TextWriter output)
{
    private static readonly string[] Names = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];

    public void Step(KhoEmu.Cpu.Cpu cpu)
    {
        output.Write($"{cpu.InstructionCount,10} {cpu.InstructionPointer:x16}  {cpu.DescribeInstructionAt(cpu.InstructionPointer),-48}");
        for (int i = 0; i < 16; i++) output.Write($" {Names[i]}={cpu.GetGpr(i):x}");
        output.WriteLine($" rflags={cpu.GetRflags():x}");
    }
}
