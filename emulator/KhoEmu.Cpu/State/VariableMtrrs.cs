using System.Runtime.CompilerServices;

namespace KhoEmu.Cpu.State;

/// <summary>IA32_MTRR_PHYSBASE0/PHYSMASK0 … PHYSBASE7/PHYSMASK7 (MSRs 200H-20FH) in MSR order.</summary>
[InlineArray(16)]
public struct VariableMtrrs
{
    private ulong _e0;
}
