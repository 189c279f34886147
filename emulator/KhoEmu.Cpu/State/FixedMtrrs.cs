using System.Runtime.CompilerServices;

namespace KhoEmu.Cpu.State;

/// <summary>The fixed-range MTRRs: FIX64K_00000, FIX16K_80000, FIX16K_A0000, FIX4K_C0000 … FIX4K_F8000.</summary>
[InlineArray(11)]
public struct FixedMtrrs
{
    private ulong _e0;
}
