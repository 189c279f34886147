namespace KhoEmu.Cpu.State;

/// <summary>
/// The MSRs a <see cref="Cpu"/> stores, each at a fixed place (numbers in <see cref="Msr"/>; SDM vol. 4, table 2-2).
/// MSRs that alias other state are not here: IA32_EFER (<see cref="CpuState.Efer"/>), FS/GS base (the segment
/// caches), the TSC (virtual time: <see cref="CpuState.InstructionCount"/> + <see cref="CpuState.IdleTime"/>),
/// IA32_PKRS (<see cref="CpuState.Pkrs"/>); read-only ones (MTRRCAP, FEATURE_CONTROL, BIOS_SIGN_ID,
/// ARCH_CAPABILITIES) are the model's. The model-specific ones keep their slot on every model and stay at their reset
/// value where the model does not have them.
/// </summary>
public struct CpuMsrs
{
    public ulong Star, Lstar, Cstar, Sfmask, KernelGsBase, TscAux, Pat;
    public ulong SysenterCs, SysenterEsp, SysenterEip;
    /// <summary>IA32_APIC_BASE as the CPU keeps it when no local APIC claims the MSR.</summary>
    public ulong ApicBase;
    public ulong MiscEnable, MtrrDefType;
    public ulong AmdSyscfg, AmdIntPendingMsg, AmdHwcr, AmdNbCfg;
    public VariableMtrrs MtrrVariable;
    public FixedMtrrs MtrrFixed;
}
