using KhoEmu.Cpu.Flags;

namespace KhoEmu.Cpu.Semantics;

/// <summary>A two-operand ALU operation as a pure function that also records lazy flags.</summary>
internal interface IAluOp
{
    static abstract ulong Compute(Cpu c, ulong a, ulong b, int size);
    /// <summary>False for CMP and TEST, which only set flags.</summary>
    static abstract bool WritesResult { get; }
}

internal struct AddOp : IAluOp
{
    public static ulong Compute(Cpu c, ulong a, ulong b, int size) { ulong r = a + b; c.SetLazy(FlagOp.Add, size, a, b, r); return r; }
    public static bool WritesResult => true;
}

internal struct OrOp : IAluOp
{
    public static ulong Compute(Cpu c, ulong a, ulong b, int size) { ulong r = a | b; c.SetLazy(FlagOp.Logic, size, a, b, r); return r; }
    public static bool WritesResult => true;
}

internal struct AdcOp : IAluOp
{
    public static ulong Compute(Cpu c, ulong a, ulong b, int size)
    {
        bool cin = c.CF;
        ulong r = a + b + (cin ? 1UL : 0);
        c.SetLazyWithCarry(FlagOp.Adc, size, a, b, r, cin);
        return r;
    }
    public static bool WritesResult => true;
}

internal struct SbbOp : IAluOp
{
    public static ulong Compute(Cpu c, ulong a, ulong b, int size)
    {
        bool cin = c.CF;
        ulong r = a - b - (cin ? 1UL : 0);
        c.SetLazyWithCarry(FlagOp.Sbb, size, a, b, r, cin);
        return r;
    }
    public static bool WritesResult => true;
}

internal struct AndOp : IAluOp
{
    public static ulong Compute(Cpu c, ulong a, ulong b, int size) { ulong r = a & b; c.SetLazy(FlagOp.Logic, size, a, b, r); return r; }
    public static bool WritesResult => true;
}

internal struct SubOp : IAluOp
{
    public static ulong Compute(Cpu c, ulong a, ulong b, int size) { ulong r = a - b; c.SetLazy(FlagOp.Sub, size, a, b, r); return r; }
    public static bool WritesResult => true;
}

internal struct XorOp : IAluOp
{
    public static ulong Compute(Cpu c, ulong a, ulong b, int size) { ulong r = a ^ b; c.SetLazy(FlagOp.Logic, size, a, b, r); return r; }
    public static bool WritesResult => true;
}

internal struct CmpOp : IAluOp
{
    public static ulong Compute(Cpu c, ulong a, ulong b, int size) { ulong r = a - b; c.SetLazy(FlagOp.Sub, size, a, b, r); return r; }
    public static bool WritesResult => false;
}

internal struct TestOp : IAluOp
{
    public static ulong Compute(Cpu c, ulong a, ulong b, int size) { ulong r = a & b; c.SetLazy(FlagOp.Logic, size, a, b, r); return r; }
    public static bool WritesResult => false;
}
