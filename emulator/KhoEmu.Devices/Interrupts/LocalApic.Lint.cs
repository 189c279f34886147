namespace KhoEmu.Devices.Interrupts;

/// <summary>
/// The local interrupt pins (Intel SDM vol. 3, 11.5.1, the LINT0/LINT1 entries of the local vector table): the board
/// wires the 8259's INTR to LINT0 and its NMI line to LINT1 of every processor, as a PC does. An edge on a pin is
/// delivered as its LVT entry says: masked, dropped; fixed, the entry's vector enters the IRR; NMI, the processor's
/// NMI; ExtINT, an interrupt the 8259 supplies the vector for (LINT0, <see cref="AcceptsPicInterrupt"/>); SMI is
/// dropped (no SMM). With the APIC globally disabled (IA32_APIC_BASE.EN = 0) the pins are the processor's own INTR and
/// NMI inputs (11.4.3), so LINT1 is an NMI whatever the LVT holds. A software-disabled APIC keeps every LVT entry
/// masked (11.4.7.2), so its pins deliver nothing.
/// </summary>
public sealed partial class LocalApic
{
    /// <summary>Raises the processor's NMI input (the processor's NMI pin, or an NMI the LVT or an IPI delivers).
    /// Without a sink the NMI stays pending in <see cref="HasPendingNmi"/>.</summary>
    public Action? NmiSink { get; set; }

    /// <summary>LVT LINT0 as QEMU's BSP has it after reset: ExtINT, not masked (the 8259 reaches the processor through
    /// virtual wire until software reprograms the entry; QEMU's apic_reset_common for the bootstrap processor).</summary>
    public void VirtualWireAtReset() => _lvtLint0 = 0x700;

    /// <summary>An edge on LINT1 (the board's NMI line: QEMU's monitor <c>nmi</c>, the chipset's NMI sources).</summary>
    public void RaiseLint1()
    {
        if (_globallyDisabled) { RaiseNmi(); return; }
        Deliver(_lvtLint1);
    }

    /// <summary>
    /// True when the 8259's INTR reaches the processor through this APIC's LINT0 (QEMU's apic_accept_pic_intr): with the
    /// APIC globally disabled (LINT0 is INTR itself), or with the LINT0 entry unmasked in ExtINT mode (virtual wire,
    /// SDM vol. 3, 11.5.1; the MP specification's virtual wire mode).
    /// </summary>
    public bool AcceptsPicInterrupt => _globallyDisabled || ((_lvtLint0 & 0x10000) == 0 && ((_lvtLint0 >> 8) & 7) == 7);

    private void Deliver(uint lvt)
    {
        if ((lvt & 0x10000) != 0) return;
        switch ((lvt >> 8) & 7)
        {
            case 0: Accept((int)(lvt & 0xFF), (lvt & 0x8000) != 0); break;
            case 4: RaiseNmi(); break;
            // 2 SMI: no SMM; 7 ExtINT on LINT1: no 8259 answers the acknowledge there.
        }
    }

    private void RaiseNmi()
    {
        if (NmiSink is { } sink) sink();
        else _nmiPending = true;
    }
}
