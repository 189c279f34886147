using KhoEmu.Core;

namespace KhoEmu.Devices.Interrupts;

/// <summary>What the CPU asks for pending interrupts: the local APIC first, then the legacy PIC (ExtINT).</summary>
public sealed class InterruptRouter(LocalApic apic, Pic8259 pic) : IInterruptSink
{
    public bool HasPendingInterrupt => apic.HasPending || pic.HasPending;

    public int AcknowledgeInterrupt()
    {
        if (apic.HasPending) return apic.Acknowledge();
        return pic.Acknowledge();
    }

    public bool HasPendingNmi => apic.HasPendingNmi;

    public bool AcknowledgeNmi() => apic.AcknowledgeNmi();
}
