using System.Runtime.CompilerServices;

namespace KhoEmu.Cpu.State;

/// <summary>RAX-R15 in encoding order plus slot 16, a scratch slot decoded operands name when an instruction has no register there (its contents mean nothing).</summary>
[InlineArray(17)]
public struct GeneralRegisters
{
    private ulong _e0;
}
