namespace KhoEmu.Cpu.X87;

/// <summary>x87 floating-point exception flags, in the bit positions of the status word (and the control word's masks).</summary>
[Flags]
public enum X87Exception : ushort
{
    None = 0,
    Invalid = 1 << 0,
    Denormal = 1 << 1,
    ZeroDivide = 1 << 2,
    Overflow = 1 << 3,
    Underflow = 1 << 4,
    Precision = 1 << 5,
}

/// <summary>
/// What one arithmetic operation reports: the exceptions it raised and the C1 "rounded up" indication. The math
/// takes the control word, so results already follow its rounding, precision and masks (masked responses; for an
/// unmasked overflow or underflow the exponent is bias-adjusted as the SDM describes for register destinations).
/// The caller decides whether a destination is written: not when an unmasked Invalid, Denormal or ZeroDivide was
/// raised, and for a memory destination (FST m32/m64, FIST, FBSTP) also not on an unmasked Overflow or Underflow.
/// Each operation assigns <see cref="RoundedUp"/> and ORs into <see cref="Raised"/>, so one value can accumulate the
/// flags of an instruction's steps.
/// </summary>
public struct X87Flags
{
    public X87Exception Raised;
    public bool RoundedUp;
}

/// <summary>The outcome of an x87 comparison.</summary>
public enum X87Ordering : byte { Greater, Less, Equal, Unordered }

/// <summary>FXAM's classes (C3, C2, C0 as the SDM encodes them; empty registers are the register file's business).</summary>
public enum X87Class : byte
{
    Unsupported = 0b000,
    NaN = 0b001,
    Normal = 0b010,
    Infinity = 0b011,
    Zero = 0b100,
    Empty = 0b101,
    Denormal = 0b110,
}

/// <summary>The constants FLD1, FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2 and FLDZ load.</summary>
public enum X87Constant : byte { One, Log2Ten, Log2E, Pi, Log10Two, LnTwo, Zero }
