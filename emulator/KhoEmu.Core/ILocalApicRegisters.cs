namespace KhoEmu.Core;

/// <summary>
/// What a processor's local APIC offers the processor itself (Intel SDM vol. 3, 11.4.3 and 11.12): the mode
/// IA32_APIC_BASE selects, and the x2APIC registers as MSRs 800H-8FFH.
/// </summary>
public interface ILocalApicRegisters
{
    /// <summary>IA32_APIC_BASE.EN and EXTD after a write the processor accepted.</summary>
    void SetMode(bool enabled, bool x2apic);

    /// <summary>RDMSR of 800H-8FFH; false raises #GP.</summary>
    bool TryReadMsr(uint msr, out ulong value);

    /// <summary>WRMSR of 800H-8FFH; false raises #GP.</summary>
    bool TryWriteMsr(uint msr, ulong value);
}
