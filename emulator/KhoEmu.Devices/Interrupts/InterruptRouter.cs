using KhoEmu.Core;

namespace KhoEmu.Devices.Interrupts;

/// <summary>What the CPU asks for pending interrupts: the local APIC first, then the legacy PIC, which is wired to the
/// bootstrap processor's LINT0 only (null for the others) and reaches it while LINT0 is an unmasked ExtINT entry or
/// the APIC is globally disabled (<see cref="LocalApic.AcceptsPicInterrupt"/>).</summary>
public sealed class InterruptRouter(LocalApic apic, Pic8259? pic) : IInterruptSink
{
    private bool PicPending => pic is not null && apic.AcceptsPicInterrupt && pic.HasPending;

    public bool HasPendingInterrupt => apic.HasPending || PicPending;

    public int AcknowledgeInterrupt()
    {
        if (apic.HasPending) return apic.Acknowledge();
        return PicPending ? pic!.Acknowledge() : -1;
    }

    public bool HasPendingNmi => apic.HasPendingNmi;

    public bool AcknowledgeNmi() => apic.AcknowledgeNmi();
}
