namespace KhoEmu.Cpu.SseFloat;

/// <summary>The arithmetic operations of one SSE lane.</summary>
internal enum FpOp
{
    Add,
    Sub,
    Mul,
    Div,
    Sqrt,
}
