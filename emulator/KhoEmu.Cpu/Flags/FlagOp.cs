namespace KhoEmu.Cpu.Flags;

/// <summary>Which operation last set the arithmetic flags; they are computed from its operands only when read.</summary>
internal enum FlagOp : byte
{
    /// <summary>Flags are materialized in RFLAGS.</summary>
    None,
    Add,
    Adc,
    Sub,
    Sbb,
    Logic,
    Inc,
    Dec,
}
