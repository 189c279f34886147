using KhoEmu.Core;
using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu;

/// <summary>
/// IA32_APIC_BASE (MSR 1BH, Intel SDM vol. 3, 11.4.4 and 11.12.1): BSP (bit 8, read-only), EXTD (bit 10, x2APIC mode,
/// only on models that advertise CPUID.1:ECX.x2APIC), EN (bit 11) and the base (bits 39:12, 40 physical address bits);
/// the rest is reserved (#GP). The mode transitions of SDM figure 11-27 / table 11-5: disabled → xAPIC, xAPIC →
/// x2APIC, either enabled mode → disabled are legal; EXTD without EN, disabled → x2APIC and x2APIC → xAPIC raise #GP.
/// The local APIC's MMIO page stays at 0xFEE00000 whatever the base says (as with QEMU's TCG, which does not move it
/// either for a base other than the default); the x2APIC registers are MSRs 800H-8FFH of <see cref="LocalApic"/>.
/// </summary>
public sealed partial class Cpu
{
    public const ulong ApicBaseBsp = 1UL << 8, ApicBaseExtd = 1UL << 10;
    private const ulong ApicBaseAddressBits = 0xFF_FFFF_F000UL;

    /// <summary>This processor's local APIC (the machine connects it); null on a processor without one, where
    /// IA32_APIC_BASE is only a register and 800H-8FFH raise #GP.</summary>
    public ILocalApicRegisters? LocalApic { get; set; }

    /// <summary>True in x2APIC mode (IA32_APIC_BASE.EN and EXTD set).</summary>
    public bool X2ApicMode => (ReadMsrValue(Msr.ApicBase) & ApicBaseExtd) != 0;

    private bool TryWriteApicBase(ulong value)
    {
        if ((value & ~(ApicBaseBsp | ApicBaseExtd | Msr.ApicBaseEnable | ApicBaseAddressBits)) != 0) return false;
        ulong old = ReadMsrValue(Msr.ApicBase);
        bool en = (value & Msr.ApicBaseEnable) != 0, extd = (value & ApicBaseExtd) != 0;
        bool wasEn = (old & Msr.ApicBaseEnable) != 0, wasExtd = (old & ApicBaseExtd) != 0;
        if (extd && !Model.Has(CpuFeature.X2apic)) return false;
        if (extd && !en) return false;                      // the invalid state
        if (!wasEn && en && extd) return false;             // disabled → x2APIC
        if (wasExtd && en && !extd) return false;           // x2APIC → xAPIC without disabling first
        _msrs.ApicBase = (value & ~ApicBaseBsp) | (old & ApicBaseBsp);
        LocalApic?.SetMode(en, extd);
        return true;
    }

    private bool TryReadX2ApicMsr(uint msr, out ulong value)
    {
        value = 0;
        return LocalApic is { } apic && apic.TryReadMsr(msr, out value);
    }

    private bool TryWriteX2ApicMsr(uint msr, ulong value) => LocalApic is { } apic && apic.TryWriteMsr(msr, value);
}
