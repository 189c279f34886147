using Iced.Intel;

namespace KhoEmu.Cpu.Tests;

/// <summary>
/// One x87 instruction form for the instruction-level differential test: how to emit a random instance, which
/// status-word bits the SDM defines for it, whether it may start from a state with a pending exception (non-waiting
/// forms only), the ulp tolerance of transcendental results (0: exact), and the ST(0) values the SDM defines the
/// instruction for (null: all; F2XM1 and FYL2XP1 have undefined results outside their domains).
/// </summary>
public sealed record X87Form(string Name, Action<Assembler, Random> Emit, ushort SwMask = 0xFFFF, bool Dirty = false,
    long UlpBound = 0, Func<KhoEmu.Cpu.X87.Float80, bool>? Domain = null);
