using KhoEmu.Core;

namespace KhoEmu.Devices.Interrupts;

/// <summary>What the CPU asks for pending interrupts: the local APIC first, then the legacy PIC (ExtINT), which is
/// wired to the bootstrap processor only (null for the others).</summary>
public sealed class InterruptRouter(LocalApic apic, Pic8259? pic) : IInterruptSink
{
    public bool HasPendingInterrupt => apic.HasPending || (pic is not null && pic.HasPending);

    public int AcknowledgeInterrupt()
    {
        if (apic.HasPending) return apic.Acknowledge();
        return pic is null ? -1 : pic.Acknowledge();
    }

    public bool HasPendingNmi => apic.HasPendingNmi;

    public bool AcknowledgeNmi() => apic.AcknowledgeNmi();
}
