using System.Buffers.Binary;
using KhoEmu.Devices.Interrupts;
using KhoEmu.Devices.Iommu;
using KhoEmu.Machine.Board;
using NUnit.Framework;
using static KhoEmu.Machine.Tests.DeviceState.StateRig;

namespace KhoEmu.Machine.Tests.DeviceState;

/// <summary>VT-d's fault record, fault event and interrupt-remapping table pointer across a restore; its caches are
/// not state and start empty.</summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class VtdFaultStateTests
{
    private const ulong Vtd = Q35Layout.VtdBase, IrtBase = 0x60000;
    private const ushort EduSid = Q35Layout.EduSlot << 3;

    private static MachineConfig WithRemapping()
    {
        var c = Config();
        c.Iommu = new IntelIommuOptions { InterruptRemapping = true };
        return c;
    }

    private static void WriteIrte(PcMachine m)
    {
        var e = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(e, 1 | 0x77UL << 16);   // present, fixed, vector 0x77, APIC 0
        m.Memory.Write(IrtBase, e);
    }

    private static InterruptMessage? Remap(PcMachine m) =>
        m.Iommu.RemapInterrupt(EduSid, InterruptMessage.AddressBase | 0x10, 0, out var message) ? message : null;

    [Test]
    public void FaultRecordAndRemappingTableSurviveAndTheCachesStartEmpty()
    {
        using var a = NewMachine(WithRemapping());
        var mmio = a.Memory.Mmio;
        mmio.Write(Vtd + 0x38, 4, 0);                                   // fault events unmasked
        mmio.Write(Vtd + 0x3C, 4, 0x66);                                // to vector 0x66
        mmio.Write(Vtd + 0x40, 4, 0xFEE0_0000);
        mmio.Write(Vtd + 0x20, 8, 0x30000);                             // an empty root table
        mmio.Write(Vtd + 0x18, 4, IntelIommu.GcmdSrtp);
        mmio.Write(Vtd + 0x18, 4, IntelIommu.GcmdTe);
        mmio.Write(Vtd + 0xB8, 8, IrtBase);                             // 2 entries
        mmio.Write(Vtd + 0x18, 4, IntelIommu.GcmdTe | IntelIommu.GcmdSirtp);
        mmio.Write(Vtd + 0x18, 4, IntelIommu.GcmdTe | IntelIommu.GcmdIre);
        WriteIrte(a);
        Assert.That(Remap(a)?.Vector, Is.EqualTo((byte)0x77));
        Assert.That(a.Iommu.CachedInterruptEntries, Is.EqualTo(1));
        Assert.That(a.Iommu.Translate(EduSid, 0x5000, write: true, out _), Is.False, "no root entry: a fault");

        using var b = Restore(a, WithRemapping(), "vtd", "lapic0");
        Assert.That(b.Iommu.CachedInterruptEntries, Is.Zero, "the interrupt entry cache is not restored");
        foreach (ulong reg in new ulong[] { 0x1C, 0x34, 0x38, 0xB8, 0x220, 0x224, 0x228, 0x22C })
            Same(a, b, m => m.Memory.Mmio.Read(Vtd + reg, 4), $"register 0x{reg:x}");
        Same(a, b, m => m.Apic.Acknowledge(), "the fault event's interrupt");
        WriteIrte(b);                                                   // RAM is not device state
        Same(a, b, Remap, "a remapped interrupt through the restored table pointer");

        foreach (var m in new[] { a, b })
        {
            m.Memory.Mmio.Write(Vtd + 0x22C, 4, 1u << 31);              // clear the record's F bit, then FSTS
            m.Memory.Mmio.Write(Vtd + 0x34, 4, 0x13);
            m.Iommu.Translate(EduSid, 0x9000, write: false, out _);
        }
        Same(a, b, m => m.Memory.Mmio.Read(Vtd + 0x220, 8), "the next fault's record");
        Same(a, b, m => m.Apic.Acknowledge(), "the next fault event");
        AssertSameDevices(a, b, "after the second fault");
    }
}
