using System.Runtime.CompilerServices;

namespace KhoEmu.Cpu.State;

/// <summary>DR0-DR7; DR4 and DR5 are never stored (they alias DR6/DR7 or raise #UD), their slots stay zero.</summary>
[InlineArray(8)]
public struct DebugRegisters
{
    private ulong _e0;
}
