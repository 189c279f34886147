using System.Runtime.CompilerServices;

namespace KhoEmu.Cpu.State;

/// <summary>XMM0-XMM15.</summary>
[InlineArray(16)]
public struct XmmRegisters
{
    private Xmm _e0;
}
