using KhoEmu.Devices.Iommu;
using NUnit.Framework;
using static KhoEmu.Machine.Tests.VtdHost;

namespace KhoEmu.Machine.Tests;

/// <summary>Queued invalidation (VT-d 6.5.2) driven as Linux's qi_submit_sync does: descriptors, a wait with status
/// write, IQH following, bad descriptors stopping the queue with IQE.</summary>
public sealed class VtdQueuedInvalidationTests
{
    [Test]
    public void QueuedInvalidationIsAdvertisedAndEnabledThroughGcmd()
    {
        using var m = NewMachine(interruptRemapping: false);
        Assert.That(Reg(m, 0x10) & IntelIommu.EcapQi, Is.Not.Zero, "ECAP.QI");
        Assert.That(Reg(m, 0x10) & IntelIommu.EcapIr, Is.Zero, "no ECAP.IR by default");
        EnableQueue(m);
        Assert.That(Reg(m, 0x1C, 4) & IntelIommu.GcmdQie, Is.Not.Zero, "GSTS.QIES");
        Assert.That(Reg(m, 0x90), Is.EqualTo(Queue), "IQA reads back");
        Assert.That(Command(m, IntelIommu.GcmdQie, on: false) & IntelIommu.GcmdQie, Is.Zero, "QIES clears");
    }

    [Test]
    public void IotlbDescriptorAndWaitStatusWrite()
    {
        using var m = NewMachine(interruptRemapping: false);
        TranslateEdu(m);
        EnableQueue(m);
        Assert.That(m.Iommu.Translate(EduSid, Iova, false, out ulong pa) && pa == RamA);
        W64(m, Pt, RamB | 3);                                        // remap without invalidating: the IOTLB keeps A
        Assert.That(m.Iommu.Translate(EduSid, Iova, false, out pa) && pa == RamA);

        // Register-based invalidation is ignored while the queue is on.
        SetReg(m, 0xF0, Iova);
        SetReg(m, 0xF8, (1UL << 63) | (3UL << 60) | ((ulong)Domain << 32));
        Assert.That(m.Iommu.Translate(EduSid, Iova, false, out pa) && pa == RamA, "still stale");
        Assert.That(m.Iommu.IgnoredRegisterInvalidations, Is.EqualTo(1));

        // Page-selective IOTLB invalidation (type 2, G 3, DID) then a wait writing 0x600D to Status.
        Submit(m, D(2 | (3 << 4) | ((ulong)Domain << 16), Iova), Wait(0x600D, Status));
        Assert.That(R32(m, Status), Is.EqualTo(0x600Du), "status written");
        Assert.That(Reg(m, 0x80), Is.EqualTo(2UL << 4), "IQH follows IQT");
        Assert.That(m.Iommu.DescriptorsProcessed, Is.EqualTo(2));
        Assert.That(m.Iommu.Translate(EduSid, Iova, false, out pa) && pa == RamB, "the new mapping is used");
        Assert.That(Reg(m, 0x34, 4) & 0x10, Is.Zero, "no IQE");
    }

    [Test]
    public void ContextCacheDescriptorDropsTheCachedContext()
    {
        using var m = NewMachine(interruptRemapping: false);
        TranslateEdu(m);
        EnableQueue(m);
        Assert.That(m.Iommu.Translate(EduSid, Iova, false, out _), Is.True);
        W64(m, Context + EduSid * 16, 0);                           // the device loses its context entry
        Assert.That(m.Iommu.Translate(EduSid, Iova, false, out _), Is.True, "cached context");
        // Device-selective (G 3) for SID 00:01.0, then global IOTLB (the order the specification asks for).
        Submit(m, D(1 | (3 << 4) | ((ulong)Domain << 16) | ((ulong)EduSid << 32)), D(2 | (1 << 4)), Wait(1, Status));
        Assert.That(m.Iommu.Translate(EduSid, Iova, false, out _), Is.False, "context not present");
        Assert.That(TakeFault(m).High >> 32 & 0xFF, Is.EqualTo((ulong)IntelIommu.Fault.ContextNotPresent));
    }

    [TestCase(0x0UL, 0UL, 3, Description = "type 0")]
    [TestCase(0x3UL, 0UL, 3, Description = "device-TLB without ECAP.DT")]
    [TestCase(0x6UL, 0UL, 3, Description = "PASID-based IOTLB without scalable mode")]
    [TestCase(0x205UL, 0UL, 3, Description = "type bits 11:9 set")]
    [TestCase(0x25UL | (1UL << 12), 0UL, 4, Description = "wait with reserved bit 12")]
    [TestCase(0x25UL, 0x31_0001UL, 4, Description = "wait with status address bit 0")]
    [TestCase(0x2UL, 0UL, 4, Description = "IOTLB with granularity 0")]
    [TestCase(0x11UL, 1UL, 4, Description = "context-cache with the high qword set")]
    [TestCase(0x14UL, 0UL, 3, Description = "interrupt entry cache without interrupt remapping")]
    public void BadDescriptorStopsTheQueueWithIqe(ulong lo, ulong hi, int iqei)
    {
        using var m = NewMachine(interruptRemapping: false);
        EnableQueue(m);
        Submit(m, Wait(1, Status), D(lo, hi), Wait(2, Status));
        Assert.That(Reg(m, 0x34, 4) & 0x10, Is.Not.Zero, "FSTS.IQE");
        Assert.That(Reg(m, 0xB0) & 0xF, Is.EqualTo((ulong)iqei), "IQERCD.IQEI");
        Assert.That(Reg(m, 0x80), Is.EqualTo(1UL << 4), "IQH stays at the bad descriptor");
        Assert.That(R32(m, Status), Is.EqualTo(1u), "the wait after it did not run");
        Assert.That(Reg(m, 0x38, 4) & 0x4000_0000, Is.Not.Zero, "fault event pending (FECTL.IP, masked)");

        // As Linux's qi_check_fault: overwrite the bad descriptor with a wait, clear IQE: the queue resumes.
        W64(m, Queue + 16, Wait(3, Status).Lo);
        W64(m, Queue + 24, Status);
        SetReg(m, 0x34, 0x10, 4);
        Assert.That(Reg(m, 0x34, 4) & 0x10, Is.Zero);
        Assert.That(Reg(m, 0x80), Is.EqualTo(3UL << 4));
        Assert.That(R32(m, Status), Is.EqualTo(2u), "both waits ran");
        Assert.That(Reg(m, 0x38, 4) & 0x4000_0000, Is.Zero, "IP clears with the last fault condition");
    }

    [Test]
    public void TailBeyondTheQueueIsAnInvalidTail()
    {
        using var m = NewMachine(interruptRemapping: false);
        EnableQueue(m);                                              // 256 entries
        SetReg(m, 0x88, 300UL << 4);
        Assert.That(Reg(m, 0x34, 4) & 0x10, Is.Not.Zero);
        Assert.That(Reg(m, 0xB0) & 0xF, Is.EqualTo(1UL));
    }

    [Test]
    public void WaitWithInterruptFlagSignalsTheCompletionEvent()
    {
        using var m = NewMachine(interruptRemapping: false);
        m.Memory.Mmio.Write(0xFEE0_00F0, 4, 0x1FF);
        EnableQueue(m);
        SetReg(m, 0xA4, 0x47, 4);                                    // IEDATA: vector 0x47
        SetReg(m, 0xA8, 0xFEE0_0000, 4);                             // IEADDR
        Submit(m, Wait(0, 0, statusWrite: false, interrupt: true));
        Assert.That(Reg(m, 0x9C, 4), Is.EqualTo(1UL), "ICS.IWC");
        Assert.That(Reg(m, 0xA0, 4), Is.EqualTo(0xC000_0000UL), "IECTL: masked at reset, IP set");
        Assert.That(m.Apic.HasPending, Is.False);
        SetReg(m, 0xA0, 0, 4);                                       // unmask: the pending event is sent
        Assert.That(TakeInterrupt(m), Is.EqualTo(0x47));
        Assert.That(Reg(m, 0xA0, 4), Is.Zero, "IP clear once sent");

        Submit(m, Wait(0, 0, statusWrite: false, interrupt: true));
        Assert.That(m.Apic.HasPending, Is.False, "IWC still set: no new event");
        SetReg(m, 0x9C, 1, 4);
        Assert.That(Reg(m, 0x9C, 4), Is.Zero, "IWC is write-1-to-clear");
        Submit(m, Wait(0, 0, statusWrite: false, interrupt: true));
        Assert.That(TakeInterrupt(m), Is.EqualTo(0x47));
        Assert.That(m.Iommu.CompletionEvents, Is.EqualTo(2));
    }

    [Test]
    public void DmaFaultSignalsTheFaultEventWhenUnmasked()
    {
        using var m = NewMachine(interruptRemapping: false);
        m.Memory.Mmio.Write(0xFEE0_00F0, 4, 0x1FF);
        TranslateEdu(m);
        SetReg(m, 0x3C, 0x48, 4);
        SetReg(m, 0x40, 0xFEE0_0000, 4);
        SetReg(m, 0x38, 0, 4);                                       // FECTL.IM clear
        Assert.That(m.Iommu.Translate(EduSid, Iova + 0x10_0000, true, out _), Is.False);
        Assert.That(TakeInterrupt(m), Is.EqualTo(0x48), "fault event interrupt");
        Assert.That(m.Iommu.Translate(EduSid, Iova + 0x10_0000, true, out _), Is.False);
        Assert.That(m.Apic.HasPending, Is.False, "a pending fault suppresses further events");
        Assert.That(Reg(m, 0x34, 4) & 1, Is.EqualTo(1UL), "PFO: the one record was still in use");
    }
}
