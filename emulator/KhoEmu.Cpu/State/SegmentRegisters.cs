using System.Runtime.CompilerServices;

namespace KhoEmu.Cpu.State;

/// <summary>ES, CS, SS, DS, FS, GS (in <see cref="SegReg"/> order) with their descriptor caches.</summary>
[InlineArray(6)]
public struct SegmentRegisters
{
    private SegmentCache _e0;
}
