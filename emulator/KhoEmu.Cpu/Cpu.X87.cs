using KhoEmu.Core;
using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu;

/// <summary>The x87 FPU's state and its external error signal.</summary>
public sealed partial class Cpu
{
    internal ref X87State Fpu => ref _s.Fpu;

    /// <summary>The x87 state (tests, the monitor, snapshots). Setting it replaces the whole FPU state.</summary>
    public X87State X87
    {
        get => _s.Fpu;
        set => _s.Fpu = value;
    }

    /// <summary>
    /// FERR#, the x87 error output the board routes to IRQ 13 (the PC-compatible "MS-DOS" error reporting, SDM vol. 1,
    /// D.1). With CR0.NE = 0 a waiting x87 instruction that finds an unmasked exception pending raises this line
    /// instead of #MF and then executes (as QEMU does); FNINIT, FNCLEX and loads that clear ES lower it. Null: not
    /// wired (the default), the error is then not reported at all with NE = 0.
    /// </summary>
    public IIrqLine? FerrLine { get; set; }

    private ref bool _ferrAsserted => ref _s.FerrAsserted;

    internal void SetFerr(bool level)
    {
        if (level == _ferrAsserted) return;
        _ferrAsserted = level;
        FerrLine?.Set(level);
    }
}
