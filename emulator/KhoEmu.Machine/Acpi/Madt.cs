using KhoEmu.Machine.Board;

namespace KhoEmu.Machine.Acpi;

/// <summary>
/// The MADT (ACPI 6.5 §5.2.12, revision 1 as QEMU's): the local APIC address, PCAT_COMPAT (8259s present), one
/// enabled Processor Local APIC entry per processor (ACPI processor UID = processor index, its APIC ID; §5.2.12.2), the
/// I/O APIC, the interrupt source overrides (IRQ 0 → GSI 2; the SCI level, active high) and
/// the local APIC NMI on LINT1 for every processor.
/// </summary>
public static class Madt
{
    public const byte Revision = 1;
    public const byte TypeLocalApic = 0, TypeIoApic = 1, TypeSourceOverride = 2, TypeLocalApicNmi = 4;
    /// <summary>MPS INTI flags (Table 5.26): polarity active high (01), trigger level (11 &lt;&lt; 2).</summary>
    public const ushort LevelActiveHigh = 0x000D;

    /// <summary>The MADT of a machine whose processors have APIC IDs <paramref name="apicIds"/> (by index; one
    /// processor with ID 0 when null).</summary>
    public static byte[] Build(IReadOnlyList<int>? apicIds = null)
    {
        apicIds ??= [Q35Layout.LocalApicId];
        var t = new AcpiTableWriter("APIC", Revision);
        t.U32((uint)Q35Layout.LocalApicBase);
        t.U32(1);                                                // PCAT_COMPAT
        for (int i = 0; i < apicIds.Count; i++)
            t.U8(TypeLocalApic).U8(8).U8((byte)i).U8((byte)apicIds[i]).U32(1);   // processor UID, APIC ID, enabled
        t.U8(TypeIoApic).U8(12).U8(Q35Layout.IoApicId).U8(0).U32((uint)Q35Layout.IoApicBase).U32(Q35Layout.IoApicGsiBase);
        SourceOverride(t, 0, Q35Layout.IsaIrqToGsi(0), 0);       // PIT: conforms to the bus (edge, high)
        SourceOverride(t, Q35Layout.SciIrq, Q35Layout.IsaIrqToGsi(Q35Layout.SciIrq), LevelActiveHigh);
        t.U8(TypeLocalApicNmi).U8(6).U8(0xFF).U16(0).U8(1);     // all processors, conforming flags, LINT1
        return t.Finish();
    }

    private static void SourceOverride(AcpiTableWriter t, int irq, int gsi, ushort flags) =>
        t.U8(TypeSourceOverride).U8(10).U8(0).U8((byte)irq).U32((uint)gsi).U16(flags);   // bus 0 = ISA
}
