using KhoEmu.Devices.Iommu;
using KhoEmu.Devices.Pci;
using KhoEmu.Machine.Acpi;
using KhoEmu.Machine.Board;
using NUnit.Framework;
using static KhoEmu.Machine.Tests.VtdHost;

namespace KhoEmu.Machine.Tests;

/// <summary>Interrupt remapping (VT-d ch. 5): edu's MSI and an I/O APIC pin through IRTEs, blocked requests recorded
/// as interrupt-remapping faults, the interrupt entry cache, and the capability bits only with intremap=on.</summary>
public sealed class VtdInterruptRemappingTests
{
    [Test]
    public void CapabilityAndDmarFlagFollowTheOption()
    {
        using var off = NewMachine(interruptRemapping: false);
        using var on = NewMachine(interruptRemapping: true);
        Assert.That(Reg(off, 0x10), Is.EqualTo(0xF02UL), "QI and IRO only");
        Assert.That(Reg(on, 0x10), Is.EqualTo(0xF00F0AUL), "QI, IR, IRO, MHMV (QEMU's 0xf00f4a without PT)");
        Assert.That(off.Acpi.Tables[off.Acpi.Offsets["DMAR"] + 37], Is.EqualTo((byte)0), "DMAR flags");
        Assert.That(on.Acpi.Tables[on.Acpi.Offsets["DMAR"] + 37], Is.EqualTo((byte)1), "DMAR INTR_REMAP");

        SetReg(off, 0xB8, Irt | 7);
        Assert.That(Reg(off, 0xB8), Is.Zero, "no IRTA without interrupt remapping");
        Assert.That(Command(off, IntelIommu.GcmdIre) & IntelIommu.GcmdIre, Is.Zero, "IRE ignored");
        SetReg(on, 0xB8, Irt | (1 << 11) | 7);
        Assert.That(Reg(on, 0xB8), Is.EqualTo(Irt | 7), "EIME is reserved without ECAP.EIM");
    }

    [Test]
    public void EduMsiInRemappableFormatIsDeliveredThroughItsIrte()
    {
        using var m = NewMachine(interruptRemapping: true);
        Irte(m, 37, vector: 0x45, sid: EduSid);
        EnableRemapping(m);
        Assert.That(Reg(m, 0x1C, 4) & (IntelIommu.GcmdIre | IntelIommu.GcmdSirtp), Is.EqualTo((ulong)(IntelIommu.GcmdIre | IntelIommu.GcmdSirtp)));
        EduMsi(m, RemappableAddress(32, subhandleValid: true), data: 5);   // handle 32 + subhandle 5 = entry 37
        RaiseEdu(m);
        Assert.That(TakeInterrupt(m), Is.EqualTo(0x45), "the IRTE's vector, not the data's");
        Assert.That(m.Iommu.InterruptsRemapped, Is.EqualTo(1));

        EduMsi(m, RemappableAddress(37, subhandleValid: false), data: 0x99);   // without SHV the data is not an index
        RaiseEdu(m);
        Assert.That(TakeInterrupt(m), Is.EqualTo(0x45));
        Assert.That(Reg(m, 0x34, 4) & 2, Is.Zero, "no fault");
    }

    [Test]
    public void CompatibilityFormatIsBlockedUnlessCfiIsSet()
    {
        using var m = NewMachine(interruptRemapping: true);
        EnableRemapping(m);
        EduMsi(m, 0xFEE0_0000, data: 0x52);
        RaiseEdu(m);
        Assert.That(m.Apic.HasPending, Is.False);
        var (info, high) = TakeFault(m);
        Assert.That(high >> 32 & 0xFF, Is.EqualTo(0x25UL), "compatibility format blocked");
        Assert.That(high & 0xFFFF, Is.EqualTo((ulong)EduSid));
        Assert.That(info, Is.Zero);

        Assert.That(Command(m, IntelIommu.GcmdCfi) & IntelIommu.GcmdCfi, Is.Not.Zero, "GSTS.CFIS");
        SetReg(m, 0x34, 3, 4);
        RaiseEdu(m);
        Assert.That(TakeInterrupt(m), Is.EqualTo(0x52), "passes through with CFIS");
    }

    [Test]
    public void IoApicPinInRemappableFormat()
    {
        using var m = NewMachine(interruptRemapping: true);
        int pin = PciBus.Gsi(1, 1);
        Irte(m, 0x8123, vector: 0x61, sid: SmallTables.IoApicSourceId, level: true);   // index bit 15 set: RTE bit 11
        SetReg(m, 0xB8, Irt | 0xF);                                  // 65536 entries, as Linux sizes it
        EnableQueue(m);
        SetReg(m, 0x18, Reg(m, 0x1C, 4) | IntelIommu.GcmdSirtp, 4);
        Command(m, IntelIommu.GcmdIre);
        EduMsi(m, 0, 0);
        SetConfig(m, 1, 0x40, 0x0005);                               // MSI off: edu uses INTA
        // Remappable RTE (5.1.5.1): format bit 48, index[14:0] in 63:49, index[15] in bit 11; vector = pin (Linux's
        // choice, for the I/O APIC EOI register), level, active low.
        SetIoApic(m, 0x11 + 2 * (uint)pin, (0x0123u << 17) | (1u << 16));
        SetIoApic(m, 0x10 + 2 * (uint)pin, (uint)pin | (1u << 15) | (1u << 13) | (1u << 11));
        RaiseEdu(m);
        Assert.That(m.Apic.Acknowledge(), Is.EqualTo(0x61));
        Assert.That(m.Memory.Mmio.Read(0xFEE0_0180 + 0x10 * (0x61 >> 5), 4) & (1u << (0x61 & 31)), Is.Not.Zero, "level: TMR set from the IRTE");
        m.Memory.Mmio.Write(0xFEE0_00B0, 4, 0);                      // local APIC EOI: broadcasts 0x61, no RTE has it
        Assert.That(m.Apic.HasPending, Is.False, "Remote IRR still set");
        m.Memory.Mmio.Write(Q35Layout.IoApicBase + 0x40, 4, (ulong)pin);   // I/O APIC EOI with the RTE's vector
        Assert.That(TakeInterrupt(m), Is.EqualTo(0x61), "the line is still high: delivered again");
        Assert.That(m.Iommu.InterruptsRemapped, Is.EqualTo(2));
    }

    [TestCase(false, false, 0x22, Description = "not present")]
    [TestCase(true, false, 0x26, Description = "source id does not match")]
    public void BlockedRemappableMsiRecordsTheFaultAndInterruptsNothing(bool present, bool fpd, int reason)
    {
        using var m = NewMachine(interruptRemapping: true);
        Irte(m, 9, vector: 0x45, sid: present ? (ushort)0x0010 : EduSid, present: present, fpd: fpd);
        EnableRemapping(m);
        EduMsi(m, RemappableAddress(9, subhandleValid: false), 0);
        RaiseEdu(m);
        Assert.That(m.Apic.HasPending, Is.False, "no interrupt");
        Assert.That(Reg(m, 0x34, 4) & 2, Is.EqualTo(2UL), "FSTS.PPF");
        var (info, high) = TakeFault(m);
        Assert.That(info >> 48, Is.EqualTo(9UL), "FI[63:48] = interrupt index");
        Assert.That(info & 0xFFFF_FFFF_FFFF, Is.Zero);
        Assert.That(high >> 32 & 0xFF, Is.EqualTo((ulong)reason));
        Assert.That(high & 0xFFFF, Is.EqualTo((ulong)EduSid));
        Assert.That(high >> 62 & 1, Is.Zero, "T = 0: interrupt requests are writes");
        Assert.That(m.Iommu.InterruptsBlocked, Is.EqualTo(1));
    }

    [Test]
    public void FaultProcessingDisableSuppressesTheRecordOfAQualifiedFault()
    {
        using var m = NewMachine(interruptRemapping: true);
        Irte(m, 9, vector: 0x45, sid: EduSid, present: false, fpd: true);
        EnableRemapping(m);
        EduMsi(m, RemappableAddress(9, subhandleValid: false), 0);
        RaiseEdu(m);
        Assert.That(m.Apic.HasPending, Is.False);
        Assert.That(Reg(m, 0x34, 4) & 2, Is.Zero, "FPD: nothing recorded");
        Assert.That(m.Iommu.InterruptsBlocked, Is.EqualTo(1));
    }

    [Test]
    public void IndexBeyondTheTableAndReservedBitsFault()
    {
        using var m = NewMachine(interruptRemapping: true);
        EnableRemapping(m);                                          // 256 entries
        EduMsi(m, RemappableAddress(300, subhandleValid: false), 0);
        RaiseEdu(m);
        Assert.That(TakeFault(m).High >> 32 & 0xFF, Is.EqualTo(0x21UL));
        SetReg(m, 0x34, 3, 4);

        Irte(m, 4, vector: 0x45, sid: EduSid);
        W64(m, Irt + 4 * 16, 1 | (0x45UL << 16) | (1UL << 15));      // IM (posted) is not supported: reserved
        EduMsi(m, RemappableAddress(4, subhandleValid: false), 0);
        RaiseEdu(m);
        Assert.That(TakeFault(m).High >> 32 & 0xFF, Is.EqualTo(0x24UL));
        SetReg(m, 0x34, 3, 4);

        // SHV with data bits 31:16 set (edu's MSI data is 16 bits wide, so the request comes from the host here).
        Assert.That(m.Iommu.RemapInterrupt(EduSid, RemappableAddress(4, subhandleValid: true), 0x1_0000, out _), Is.False);
        Assert.That(TakeFault(m).High >> 32 & 0xFF, Is.EqualTo(0x20UL));
        Assert.That(m.Apic.HasPending, Is.False);
    }

    [Test]
    public void InterruptEntryCacheHoldsAnIrteUntilInvalidated()
    {
        using var m = NewMachine(interruptRemapping: true);
        Irte(m, 12, vector: 0x45, sid: EduSid);
        EnableRemapping(m);
        EduMsi(m, RemappableAddress(12, subhandleValid: false), 0);
        RaiseEdu(m);
        Assert.That(TakeInterrupt(m), Is.EqualTo(0x45));
        Irte(m, 12, vector: 0x46, sid: EduSid);                      // changed in memory only
        RaiseEdu(m);
        Assert.That(TakeInterrupt(m), Is.EqualTo(0x45), "cached, as hardware may");
        // Index-selective IEC invalidation (G 1) of entries 8-15 (IM 3), then a wait.
        Submit(m, D(4 | 0x10 | (3UL << 27) | (8UL << 32)), Wait(7, Status));
        Assert.That(R32(m, Status), Is.EqualTo(7u));
        RaiseEdu(m);
        Assert.That(TakeInterrupt(m), Is.EqualTo(0x46), "the new entry after invalidation");
    }

    [Test]
    public void IntremapOptionParsesAsQemus()
    {
        Assert.That(QemuOptions.ParseIommu([]).InterruptRemapping, Is.False, "default off");
        Assert.That(QemuOptions.ParseIommu(["intel-iommu"]).InterruptRemapping, Is.False);
        Assert.That(QemuOptions.ParseIommu(["edu", "intel-iommu,intremap=on"]).InterruptRemapping, Is.True);
        Assert.That(QemuOptions.ParseIommu(["intel-iommu,intremap=auto,caching-mode=off,eim=off"]).InterruptRemapping, Is.True, "auto is on, as under TCG");
        Assert.That(QemuOptions.ParseIommu(["driver=intel-iommu,intremap=off"]).InterruptRemapping, Is.False);
        Assert.That(() => QemuOptions.CheckDevice("intel-iommu,intremap=on,eim=on"), Throws.TypeOf<FormatException>().With.Message.Contains("x2APIC"));
        Assert.That(() => QemuOptions.CheckDevice("intel-iommu,intremap=maybe"), Throws.TypeOf<FormatException>().With.Message.Contains("intremap=maybe"));
        Assert.DoesNotThrow(() => QemuOptions.CheckDevice("intel-iommu,intremap=on"));
    }

    private static void SetIoApic(PcMachine m, uint reg, uint value)
    {
        m.Memory.Mmio.Write(Q35Layout.IoApicBase, 4, reg);
        m.Memory.Mmio.Write(Q35Layout.IoApicBase + 0x10, 4, value);
    }
}
