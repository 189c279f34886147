using Iced.Intel;

namespace KhoEmu.Cpu.Tests;

/// <summary>
/// One x87 instruction form for the instruction-level differential test: how to emit a random instance, which
/// status-word bits the SDM defines for it, whether it may start from a state with a pending exception (non-waiting
/// forms only), and the ulp tolerance of transcendental results (0: exact).
/// </summary>
public sealed record X87Form(string Name, Action<Assembler, Random> Emit, ushort SwMask = 0xFFFF, bool Dirty = false, long UlpBound = 0);
