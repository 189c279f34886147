using System.Runtime.CompilerServices;
using KhoEmu.Cpu.X87;

namespace KhoEmu.Cpu.State;

/// <summary>The eight physical x87 data registers R0-R7 (ST(i) is R((TOP + i) mod 8)), stored inline.</summary>
[InlineArray(8)]
public struct X87Registers
{
    private Float80 _r0;
}
