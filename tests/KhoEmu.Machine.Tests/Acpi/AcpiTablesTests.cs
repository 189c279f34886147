using System.Buffers.Binary;
using KhoEmu.Devices.Pci;
using KhoEmu.Machine.Acpi;
using KhoEmu.Machine.Board;
using NUnit.Framework;

namespace KhoEmu.Machine.Tests.Acpi;

[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class AcpiTablesTests
{
    private static (PcMachine Machine, Dictionary<string, (ulong Address, byte[] Data)> Tables) Booted()
    {
        var m = new PcMachine(new MachineConfig());
        m.Run(100_000);                                          // the demo guest runs; the tables stay put
        ulong rsdp = AcpiTestSupport.ScanForRsdp(m);
        Assert.That(rsdp, Is.Not.Zero, "no RSDP in 0xE0000-0xFFFFF");
        return (m, AcpiTestSupport.Walk(m, rsdp));
    }

    [Test]
    public void RsdpIsFoundByTheBiosAreaScanAndIsTheOneTheMachineReports()
    {
        var (m, _) = Booted();
        using var _m = m;
        ulong rsdp = AcpiTestSupport.ScanForRsdp(m);
        Assert.That(rsdp, Is.EqualTo(m.AcpiRsdpAddress));
        Assert.That(rsdp % 16, Is.Zero);
        var r = AcpiTestSupport.ReadBytes(m, rsdp, 36);
        Assert.That(r[15], Is.EqualTo(2), "revision 2");
        Assert.That(AcpiTestSupport.Sum(r), Is.Zero, "extended checksum over 36 bytes");
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(r.AsSpan(20)), Is.EqualTo(36));
    }

    [Test]
    public void EveryTableChecksumsAndLiesInTheE820AcpiRange()
    {
        var (m, tables) = Booted();
        using var _m = m;
        Assert.That(tables.Keys, Is.SupersetOf(new[] { "RSDT", "XSDT", "FACP", "APIC", "HPET", "MCFG", "DMAR", "DSDT", "FACS" }));
        var acpi = m.Memory.MemoryMap().Single(e => e.Type == KhoEmu.Memory.E820Type.Acpi);
        foreach (var (sig, (address, data)) in tables)
        {
            if (sig != "FACS") Assert.That(AcpiTestSupport.Sum(data), Is.Zero, $"{sig} checksum");
            Assert.That(address >= acpi.Address && address + (ulong)data.Length <= acpi.Address + acpi.Length, $"{sig} at 0x{address:x}");
        }
        Assert.That(tables["FACS"].Address % 64, Is.Zero, "FACS is 64-byte aligned");
        var rsdt = tables["RSDT"].Data;
        var xsdt = tables["XSDT"].Data;
        for (int i = 0; i < (xsdt.Length - 36) / 8; i++)
            Assert.That((ulong)BinaryPrimitives.ReadUInt32LittleEndian(rsdt.AsSpan(36 + 4 * i)),
                Is.EqualTo(BinaryPrimitives.ReadUInt64LittleEndian(xsdt.AsSpan(36 + 8 * i))), "RSDT and XSDT list the same tables");
    }

    [Test]
    public void MadtDescribesTheLayout()
    {
        var (m, tables) = Booted();
        using var _m = m;
        var t = tables["APIC"].Data;
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(t.AsSpan(36)), Is.EqualTo((uint)Q35Layout.LocalApicBase));
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(t.AsSpan(40)) & 1, Is.EqualTo(1u), "PCAT_COMPAT");
        var overrides = new List<(int Irq, uint Gsi, ushort Flags)>();
        bool lapic = false, ioapic = false, nmi = false;
        for (int off = 44; off < t.Length; off += t[off + 1])
        {
            switch (t[off])
            {
                case 0:
                    lapic = t[off + 3] == Q35Layout.LocalApicId && (BinaryPrimitives.ReadUInt32LittleEndian(t.AsSpan(off + 4)) & 1) == 1;
                    break;
                case 1:
                    ioapic = t[off + 2] == Q35Layout.IoApicId
                        && BinaryPrimitives.ReadUInt32LittleEndian(t.AsSpan(off + 4)) == Q35Layout.IoApicBase
                        && BinaryPrimitives.ReadUInt32LittleEndian(t.AsSpan(off + 8)) == Q35Layout.IoApicGsiBase;
                    break;
                case 2:
                    overrides.Add((t[off + 3], BinaryPrimitives.ReadUInt32LittleEndian(t.AsSpan(off + 4)), BinaryPrimitives.ReadUInt16LittleEndian(t.AsSpan(off + 8))));
                    break;
                case 4:
                    nmi = t[off + 2] == 0xFF && t[off + 5] == 1;
                    break;
            }
        }
        Assert.That(lapic, "local APIC 0 enabled");
        Assert.That(ioapic, "I/O APIC id, address and GSI base");
        Assert.That(nmi, "LINT1 NMI for all processors");
        Assert.That(overrides, Is.EquivalentTo(new[] { (0, 2u, (ushort)0), (9, 9u, (ushort)0x000D) }));
    }

    [Test]
    public void McfgHpetAndDmarDescribeTheLayout()
    {
        var (m, tables) = Booted();
        using var _m = m;
        var mcfg = tables["MCFG"].Data;
        Assert.That(mcfg.Length, Is.EqualTo(60));
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(mcfg.AsSpan(44)), Is.EqualTo(Q35Layout.EcamBase));
        Assert.That(BinaryPrimitives.ReadUInt16LittleEndian(mcfg.AsSpan(52)), Is.Zero, "segment 0");
        Assert.That((mcfg[54], mcfg[55]), Is.EqualTo(((byte)0, (byte)255)));
        Assert.That(Q35Layout.EcamSize, Is.EqualTo(256UL << 20), "256 buses of 1 MiB");

        var hpet = tables["HPET"].Data;
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(hpet.AsSpan(44)), Is.EqualTo(Q35Layout.HpetBase));
        Assert.That(hpet[40], Is.Zero, "system memory space");

        var dmar = tables["DMAR"].Data;
        ulong cap = m.Memory.Mmio.Read(Q35Layout.VtdBase + 0x08, 8);
        Assert.That(dmar[36], Is.EqualTo((byte)((cap >> 16) & 0x3F)), "host address width = CAP.MGAW as the unit reports it");
        Assert.That(dmar[37], Is.Zero, "no interrupt remapping");
        Assert.That(BinaryPrimitives.ReadUInt16LittleEndian(dmar.AsSpan(48)), Is.Zero, "DRHD");
        Assert.That(dmar[52] & 1, Is.EqualTo(1), "INCLUDE_PCI_ALL");
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(dmar.AsSpan(56)), Is.EqualTo(Q35Layout.VtdBase));
        Assert.That(dmar.Length, Is.EqualTo(48 + BinaryPrimitives.ReadUInt16LittleEndian(dmar.AsSpan(50))));
    }

    [Test]
    public void FadtCarriesThePmBlockResetRegisterAndBootFlags()
    {
        var (m, tables) = Booted();
        using var _m = m;
        var f = tables["FACP"].Data;
        Assert.That(f.Length, Is.EqualTo(276));
        Assert.That(f[8], Is.EqualTo(6), "revision");
        Assert.That(BinaryPrimitives.ReadUInt16LittleEndian(f.AsSpan(46)), Is.EqualTo(9), "SCI");
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(f.AsSpan(48)), Is.EqualTo(0xB2u));
        Assert.That((f[52], f[53]), Is.EqualTo(((byte)2, (byte)3)));
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(f.AsSpan(56)), Is.EqualTo(0x600u));
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(f.AsSpan(64)), Is.EqualTo(0x604u));
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(f.AsSpan(76)), Is.EqualTo(0x608u));
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(f.AsSpan(80)), Is.EqualTo(0x620u));
        Assert.That(f[108], Is.EqualTo(0x32), "century");
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(f.AsSpan(112));
        Assert.That(flags & (1u << 8), Is.Zero, "TMR_VAL_EXT clear: 24-bit PM timer");
        Assert.That(flags & (1u << 10), Is.Not.Zero, "RESET_REG_SUP");
        Assert.That(BinaryPrimitives.ReadUInt16LittleEndian(f.AsSpan(109)), Is.EqualTo(0x0006), "8042, no VGA");
        Assert.That((f[116], f[117]), Is.EqualTo(((byte)1, (byte)8)), "RESET_REG in I/O space, 8 bits");
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(f.AsSpan(120)), Is.EqualTo(0xCF9UL));
        Assert.That(f[128], Is.EqualTo(6), "RESET_VALUE");
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(f.AsSpan(140)), Is.EqualTo(tables["DSDT"].Address), "X_DSDT");
        Assert.That((ulong)BinaryPrimitives.ReadUInt32LittleEndian(f.AsSpan(40)), Is.EqualTo(tables["DSDT"].Address), "DSDT");
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(f.AsSpan(148 + 4)), Is.EqualTo(0x600UL), "X_PM1a_EVT_BLK");
        Assert.That(f[208 + 1], Is.EqualTo(32), "X_PM_TMR_BLK is 32 bits wide");
    }

    [Test]
    public void PrtRoutesEverySlotAsPciBusDrivesTheIoApic()
    {
        // Slot s, INTx pin p (1 = INTA) → GSI 16 + ((s + p - 1) mod 4 + 4): the edu device (slot 1, INTA) on GSI 21.
        Assert.That(PciBus.Gsi(Q35Layout.EduSlot, 1), Is.EqualTo(21));
        var dsdt = Dsdt.Build();
        // Each _PRT entry: PackageOp, PkgLength, 4 elements: address (slot << 16 | 0xFFFF), pin, Zero, GSI.
        int found = 0;
        for (int i = 0; i + 12 < dsdt.Length; i++)
        {
            if (dsdt[i] != 0x12 || dsdt[i + 2] != 4 || dsdt[i + 3] is not (0x0B or 0x0C)) continue;
            int at = i + 3;
            ulong address = Integer(dsdt, ref at);
            if ((address & 0xFFFF) != 0xFFFF) continue;
            int slot = (int)(address >> 16);
            ulong pin = Integer(dsdt, ref at);
            Assert.That(Integer(dsdt, ref at), Is.Zero, "source: Zero (GSI given directly)");
            Assert.That(Integer(dsdt, ref at), Is.EqualTo((ulong)PciBus.Gsi(slot, (int)pin + 1)), $"slot {slot} pin {pin}");
            found++;
        }
        Assert.That(found, Is.EqualTo(32 * 4));
    }

    /// <summary>Decodes one AML integer (ZeroOp, OneOp, byte/word/dword prefix) at <paramref name="at"/>.</summary>
    private static ulong Integer(byte[] aml, ref int at)
    {
        byte op = aml[at++];
        int size = op switch { 0x00 or 0x01 => 0, 0x0A => 1, 0x0B => 2, 0x0C => 4, _ => throw new AssertionException($"not an integer: 0x{op:x2}") };
        if (size == 0) return op;
        ulong v = 0;
        for (int i = 0; i < size; i++) v |= (ulong)aml[at++] << (8 * i);
        return v;
    }
}
