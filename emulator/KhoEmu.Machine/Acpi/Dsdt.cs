using KhoEmu.Devices.Pci;
using KhoEmu.Machine.Board;

namespace KhoEmu.Machine.Acpi;

/// <summary>
/// The DSDT of the q35 board, in AML: the PCI Express host bridge \_SB.PCI0 with its resources and INTx routing, the
/// ISA devices behind the LPC bridge (RTC, keyboard controller and mouse, COM1), fw_cfg, the HPET, and \_S5.
/// Names and HIDs follow QEMU's q35 DSDT (hw/i386/acpi-build.c) so Linux's PNP and ACPI drivers bind as there.
/// </summary>
public static class Dsdt
{
    public const byte Revision = 2;                              // 64-bit AML integers

    public static byte[] Build()
    {
        var aml = new Aml();
        aml.Scope("\\_SB", sb =>
        {
            sb.Device("PCI0", HostBridge);
            sb.Device("HPET", Hpet);
        });
        // \_S5: SLP_TYP 0 for PM1a and PM1b (ICH9 as QEMU: writing SLP_EN with SLP_TYP 0 powers off).
        aml.Name("\\_S5", a => a.Package(p => p.Integer(0), p => p.Integer(0), p => p.Integer(0), p => p.Integer(0)));
        var table = new AcpiTableWriter("DSDT", Revision);
        table.Bytes(aml.ToArray());
        return table.Finish();
    }

    private static void HostBridge(Aml d)
    {
        d.Name("_HID", a => a.EisaId("PNP0A08"));
        d.Name("_CID", a => a.EisaId("PNP0A03"));
        // No _ADR beside _HID (ACPI 6.5 §6.1: one or the other; iasl warns 3073 for both, although QEMU emits both).
        d.Name("_UID", 0);
        d.Name("_SEG", 0);
        d.Name("_BBN", (ulong)Q35Layout.EcamFirstBus);
        d.Name("_CRS", a => a.Buffer(HostBridgeResources()));
        d.Name("_PRT", a => a.Package(Routing().ToArray()));
        d.Method("_OSC", 4, false, Osc);
        d.Device("ISA", Lpc);
        d.Device("FWCF", FwCfg);
    }

    /// <summary>Bus numbers, the configuration ports, the I/O windows and the 32-bit MMIO window (QEMU's q35 _CRS).</summary>
    public static byte[] HostBridgeResources()
    {
        var crs = new ResourceTemplate()
            .WordBusNumber((ushort)Q35Layout.EcamFirstBus, (ushort)Q35Layout.EcamLastBus);
        var conf = Q35Layout.PciConfig.Port;
        crs.Io(conf.Base, conf.Base, 1, (byte)conf.Count);
        foreach (var (min, max) in Q35Layout.PciIoWindows) crs.WordIo(min, max);
        var w = Q35Layout.PciMmio32;
        crs.DWordMemory((uint)w.Base, (uint)(w.End - 1));
        return crs.ToArray();
    }

    /// <summary>
    /// _PRT: every slot's INTA-INTD as the I/O APIC input PciBus drives (PIRQ E-H → GSI 20-23, ICH9 defaults), given as
    /// a GSI (Source 0) rather than through link devices; the I/O APIC lines are level-triggered and, as QEMU's, act
    /// on the logical level whatever the polarity bit says.
    /// </summary>
    private static IEnumerable<Action<Aml>> Routing()
    {
        for (int slot = 0; slot < 32; slot++)
        {
            for (int pin = 0; pin < 4; pin++)
            {
                ulong address = ((ulong)slot << 16) | 0xFFFF;
                ulong gsi = (ulong)PciBus.Gsi(slot, pin + 1);
                int p = pin;
                yield return a => a.Package(e => e.Integer(address), e => e.Integer((ulong)p), e => e.Integer(0), e => e.Integer(gsi));
            }
        }
    }

    /// <summary>PCI Firmware Specification 3.2 §4.5: the PCI host bridge _OSC UUID.</summary>
    public const string PciHostBridgeOscUuid = "33db4d5b-1ff7-401c-9657-7441c03dd766";
    /// <summary>Controls granted: SHPC hotplug, PME, AER, PCIe capability; not native PCIe hotplug (bit 0), as QEMU's
    /// q35 without native hotplug (the board has no hotplug-capable ports).</summary>
    public const ulong OscGranted = 0x1E;

    /// <summary>
    /// _OSC as QEMU's q35 (build_q35_osc_method): for the PCI host bridge UUID, grant the requested controls masked by
    /// <see cref="OscGranted"/> (CDW2, the support field, is not consulted, so it is not named: iasl remarks unused
    /// names), flagging an unknown revision (CDW1 bit 3) or a masked request (bit 4); any other UUID
    /// gets "unrecognised UUID" (bit 2).
    /// </summary>
    private static void Osc(Aml m)
    {
        m.CreateDWordField(a => a.Arg(3), 0, "CDW1");
        m.If(p => p.LEqual(a => a.Arg(0), a => a.Uuid(PciHostBridgeOscUuid)), then =>
        {
            then.CreateDWordField(a => a.Arg(3), 8, "CDW3");
            then.Store(a => a.Ref("CDW3"), a => a.Local(0));
            then.And(a => a.Local(0), a => a.Integer(OscGranted), a => a.Local(0));
            then.If(p => p.LNotEqual(a => a.Arg(1), a => a.Integer(1)),
                t => t.Or(a => a.Ref("CDW1"), a => a.Integer(0x08), a => a.Ref("CDW1")));
            then.If(p => p.LNotEqual(a => a.Ref("CDW3"), a => a.Local(0)),
                t => t.Or(a => a.Ref("CDW1"), a => a.Integer(0x10), a => a.Ref("CDW1")));
            then.Store(a => a.Local(0), a => a.Ref("CDW3"));
        }, otherwise => otherwise.Or(a => a.Ref("CDW1"), a => a.Integer(0x04), a => a.Ref("CDW1")));
        m.Return(a => a.Arg(3));
    }

    /// <summary>The LPC bridge's ISA devices (QEMU's q35 puts them under the ICH9 LPC function at 1f.0).</summary>
    private static void Lpc(Aml isa)
    {
        isa.Name("_ADR", 0x001F_0000);
        isa.Device("RTC", d =>
        {
            d.Name("_HID", a => a.EisaId("PNP0B00"));
            var port = Q35Layout.Rtc.Port;
            d.Name("_CRS", a => a.Buffer(new ResourceTemplate().Io(port.Base, port.Base, 0x10, (byte)port.Count)
                .IrqNoFlags([.. Q35Layout.Rtc.IsaIrqs]).ToArray()));
        });
        isa.Device("KBD", d =>
        {
            d.Name("_HID", a => a.EisaId("PNP0303"));
            Present(d);
            var crs = new ResourceTemplate();
            foreach (var r in Q35Layout.Keyboard.Ports) crs.Io(r.Base, r.Base, 1, (byte)r.Count);
            d.Name("_CRS", a => a.Buffer(crs.IrqNoFlags(Q35Layout.Keyboard.IsaIrqs[0]).ToArray()));
        });
        isa.Device("MOU", d =>
        {
            d.Name("_HID", a => a.EisaId("PNP0F13"));
            Present(d);
            d.Name("_CRS", a => a.Buffer(new ResourceTemplate().IrqNoFlags(Q35Layout.Keyboard.IsaIrqs[1]).ToArray()));
        });
        isa.Device("COM1", d =>
        {
            d.Name("_HID", a => a.EisaId("PNP0501"));
            d.Name("_UID", 1);
            Present(d);
            var port = Q35Layout.Com1.Port;
            d.Name("_CRS", a => a.Buffer(new ResourceTemplate().Io(port.Base, port.Base, 0, (byte)port.Count)
                .IrqNoFlags([.. Q35Layout.Com1.IsaIrqs]).ToArray()));
        });
    }

    /// <summary>QEMU's fw_cfg ACPI device (QEMU0002), which Linux's qemu_fw_cfg driver binds.</summary>
    private static void FwCfg(Aml d)
    {
        d.Name("_HID", "QEMU0002");
        Present(d, 0x0B);
        var port = Q35Layout.FwCfg.Port;
        d.Name("_CRS", a => a.Buffer(new ResourceTemplate().Io(port.Base, port.Base, 1, (byte)port.Count).ToArray()));
    }

    private static void Hpet(Aml d)
    {
        d.Name("_HID", a => a.EisaId("PNP0103"));
        d.Name("_UID", 0);
        Present(d);
        d.Name("_CRS", a => a.Buffer(new ResourceTemplate()
            .Memory32Fixed(false, (uint)Q35Layout.HpetBase, (uint)Q35Layout.HpetSize).ToArray()));
    }

    /// <summary>_STA as a method returning present, enabled, shown, functioning (0x0F) unless told otherwise.</summary>
    private static void Present(Aml d, ulong status = 0x0F) => d.Method("_STA", 0, false, m => m.Return(r => r.Integer(status)));
}
