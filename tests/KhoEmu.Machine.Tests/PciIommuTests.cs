using System.Buffers.Binary;
using KhoEmu.Devices.Iommu;
using KhoEmu.Devices.Pci;
using NUnit.Framework;
using KhoEmu.Machine.Board;

namespace KhoEmu.Machine.Tests;

/// <summary>PCI configuration, the VT-d model and the DMA devices, driven from the host as a guest driver would.</summary>
public sealed class PciIommuTests
{
    private const ulong Root = 0x10_0000, Context = 0x10_1000, Pml4 = 0x10_2000, Pdpt = 0x10_3000, Pd = 0x10_4000, Pt = 0x10_5000;
    private const ulong Iova = 0x0800_0000, RamA = 0x20_0000, RamB = 0x20_1000, RamC = 0x20_2000;
    private const ulong EduBar = 0xC000_0000, EngineBar = 0xC010_0000;

    private static PcMachine NewMachine() => new(new MachineConfig());

    private static uint Config(PcMachine m, int dev, int reg)
    {
        m.Ports.Write(0xCF8, 4, 0x8000_0000u | (uint)(dev << 11) | (uint)reg);
        return m.Ports.Read(0xCFC, 4);
    }

    private static void SetConfig(PcMachine m, int dev, int reg, uint value)
    {
        m.Ports.Write(0xCF8, 4, 0x8000_0000u | (uint)(dev << 11) | (uint)reg);
        m.Ports.Write(0xCFC, 4, value);
    }

    private static void W64(PcMachine m, ulong pa, ulong v)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        m.Memory.Write(pa, b);
    }

    private static ulong R64(PcMachine m, ulong pa)
    {
        var b = new byte[8];
        m.Memory.Read(pa, b);
        return BinaryPrimitives.ReadUInt64LittleEndian(b);
    }

    internal static void SetupForFuzz(PcMachine m) => Setup(m);

    /// <summary>Places the BARs, enables memory and bus mastering, builds 4-level tables: IOVA+0 → A (RW), +1 page → B (read-only), +2 → C (RW).</summary>
    private static void Setup(PcMachine m)
    {
        SetConfig(m, 1, 0x10, (uint)EduBar);
        SetConfig(m, 1, 0x04, 0x6);
        SetConfig(m, 2, 0x10, (uint)EngineBar);
        SetConfig(m, 2, 0x04, 0x6);
        foreach (ushort sid in new ushort[] { 1 << 3, 2 << 3 })
        {
            W64(m, Context + (ulong)(sid & 0xFF) * 16, Pml4 | 1);             // present, translate
            W64(m, Context + (ulong)(sid & 0xFF) * 16 + 8, 2 | (1UL << 8));   // AW 48-bit (4 levels), domain 1
        }
        W64(m, Root, Context | 1);
        W64(m, Pml4, Pdpt | 3);
        W64(m, Pdpt + ((Iova >> 30) & 511) * 8, Pd | 3);
        W64(m, Pd + ((Iova >> 21) & 511) * 8, Pt | 3);
        W64(m, Pt + 0 * 8, RamA | 3);
        W64(m, Pt + 1 * 8, RamB | 1);
        W64(m, Pt + 2 * 8, RamC | 3);
        var mmio = m.Memory.Mmio;
        mmio.Write(Q35Layout.VtdBase + 0x20, 8, Root);
        mmio.Write(Q35Layout.VtdBase + 0x18, 4, IntelIommu.GcmdSrtp);
        mmio.Write(Q35Layout.VtdBase + 0x18, 4, IntelIommu.GcmdTe);
    }

    private static void EduDma(PcMachine m, ulong src, ulong dst, ulong count, bool toRam)
    {
        var mmio = m.Memory.Mmio;
        mmio.Write(EduBar + 0x80, 8, src);
        mmio.Write(EduBar + 0x88, 8, dst);
        mmio.Write(EduBar + 0x90, 8, count);
        mmio.Write(EduBar + 0x98, 8, toRam ? 3UL : 1UL);
        m.Clock.AdvanceTo(m.Clock.Now + EduDevice.DmaDelay);
    }

    [Test]
    public void BusEnumeratesThroughPortsAndEcam()
    {
        using var m = NewMachine();
        Assert.That(Config(m, 0, 0), Is.EqualTo(0x29C0_8086u), "host bridge");
        Assert.That(Config(m, 1, 0), Is.EqualTo(0x11E8_1234u), "edu");
        Assert.That(Config(m, 2, 0), Is.EqualTo(0x0D4A_4B45u), "dma engine");
        Assert.That(Config(m, 9, 0), Is.EqualTo(0xFFFF_FFFFu), "empty slot");
        Assert.That(m.Memory.Mmio.Read(Q35Layout.EcamBase + (1UL << 15), 4), Is.EqualTo(0x11E8_1234UL));
        Assert.That(Config(m, 1, 0x08) >> 8, Is.EqualTo(0x00FF_0000u >> 0 & 0xFFFFFF), "class code");
    }

    [Test]
    public void BarSizingAndPlacement()
    {
        using var m = NewMachine();
        SetConfig(m, 1, 0x10, 0xFFFF_FFFF);
        Assert.That(Config(m, 1, 0x10), Is.EqualTo(0xFFF0_0000u), "1 MiB BAR");
        SetConfig(m, 1, 0x10, (uint)EduBar);
        Assert.That(m.Memory.Mmio.IsClaimed(EduBar), Is.False, "memory decoding still off");
        SetConfig(m, 1, 0x04, 0x2);
        Assert.That(m.Memory.Mmio.Read(EduBar, 4), Is.EqualTo(0x010000EDUL));
        m.Memory.Mmio.Write(EduBar + 4, 4, 0x1234_5678);
        Assert.That(m.Memory.Mmio.Read(EduBar + 4, 4), Is.EqualTo(0xEDCB_A987UL), "liveness inverts");
        SetConfig(m, 1, 0x10, 0xD000_0000);
        Assert.That(m.Memory.Mmio.IsClaimed(EduBar), Is.False, "moved");
        Assert.That(m.Memory.Mmio.Read(0xD000_0000, 4), Is.EqualTo(0x010000EDUL));
    }

    [Test]
    public void EduDmaRoundTripThroughTheIommu()
    {
        using var m = NewMachine();
        Setup(m);
        var pattern = Enumerable.Range(0, 4096).Select(i => (byte)(i * 7 + 3)).ToArray();
        m.Memory.Write(RamA, pattern);
        EduDma(m, Iova, EduDevice.BufferAddress, 4096, toRam: false);
        EduDma(m, EduDevice.BufferAddress, Iova + 0x2000, 4096, toRam: true);
        var back = new byte[4096];
        m.Memory.Read(RamC, back);
        Assert.That(back, Is.EqualTo(pattern));
        Assert.That(m.Edu.DmaTransfers, Is.EqualTo(2));
        Assert.That(m.Iommu.FaultCount, Is.Zero);
    }

    [TestCase(Iova + 0x1000, 5, Description = "read-only page")]
    [TestCase(Iova + 0x10_0000, 5, Description = "unmapped IOVA")]
    public void BlockedDmaRecordsAFaultAndWritesNothing(ulong target, int reason)
    {
        using var m = NewMachine();
        Setup(m);
        var before = new byte[4096];
        m.Memory.Read(RamB, before);
        m.Memory.Write(RamA, Enumerable.Repeat((byte)0x5A, 4096).ToArray());
        EduDma(m, Iova, EduDevice.BufferAddress, 4096, toRam: false);
        EduDma(m, EduDevice.BufferAddress, target, 4096, toRam: true);
        var after = new byte[4096];
        m.Memory.Read(RamB, after);
        Assert.That(after, Is.EqualTo(before), "nothing written");
        Assert.That(m.Edu.DmaFailures, Is.EqualTo(1));
        var mmio = m.Memory.Mmio;
        Assert.That(mmio.Read(Q35Layout.VtdBase + 0x34, 4) & 2, Is.EqualTo(2UL), "FSTS.PPF");
        ulong hi = mmio.Read(Q35Layout.VtdBase + IntelIommu.FaultRecordOffset + 8, 8);
        Assert.That(mmio.Read(Q35Layout.VtdBase + IntelIommu.FaultRecordOffset, 8), Is.EqualTo(target & ~0xFFFUL));
        Assert.That(hi >> 63, Is.EqualTo(1UL), "F");
        Assert.That((hi >> 32) & 0xFF, Is.EqualTo((ulong)reason));
        Assert.That(hi & 0xFFFF, Is.EqualTo(1UL << 3), "source id of edu (00:01.0)");
        Assert.That((hi >> 62) & 1, Is.Zero, "a write");
        mmio.Write(Q35Layout.VtdBase + IntelIommu.FaultRecordOffset + 12, 4, 0x8000_0000);
        Assert.That(mmio.Read(Q35Layout.VtdBase + 0x34, 4) & 2, Is.Zero, "cleared");
    }

    [Test]
    public void IotlbKeepsAStaleTranslationUntilInvalidated()
    {
        using var m = NewMachine();
        Setup(m);
        Assert.That(m.Iommu.Translate(1 << 3, Iova, false, out ulong pa) && pa == RamA);
        W64(m, Pt, RamC | 3);                                              // remap without telling the IOMMU
        Assert.That(m.Iommu.Translate(1 << 3, Iova, false, out pa) && pa == RamA, "cached, as hardware would");
        m.Memory.Mmio.Write(Q35Layout.VtdBase + 0xF0, 8, Iova);       // IVA: address, AM 0
        m.Memory.Mmio.Write(Q35Layout.VtdBase + 0xF8, 8, (1UL << 63) | (3UL << 60) | (1UL << 32)); // page-selective, DID 1
        Assert.That(m.Memory.Mmio.Read(Q35Layout.VtdBase + 0xF8, 8) >> 63, Is.Zero, "IVT cleared when done");
        Assert.That(m.Iommu.Translate(1 << 3, Iova, false, out pa) && pa == RamC);
        Assert.That(m.Iommu.IotlbHits, Is.GreaterThan(0));
    }

    [Test]
    public void EduComputesFactorialsModuloTwoToThe32()
    {
        using var m = NewMachine();
        Setup(m);
        var mmio = m.Memory.Mmio;
        System.Numerics.BigInteger f = 1;
        for (uint n = 0; n <= 40; n++)
        {
            if (n > 1) f *= n;
            mmio.Write(EduBar + 0x08, 4, n);
            Assert.That(mmio.Read(EduBar + 0x08, 4), Is.EqualTo((ulong)(uint)(f % (System.Numerics.BigInteger.One << 32))), $"{n}!");
        }
        mmio.Write(EduBar + 0x08, 4, 0xFFFF_FFFF);                        // must not take the host billions of steps
        Assert.That(mmio.Read(EduBar + 0x08, 4), Is.Zero);
        Assert.That(mmio.Read(EduBar + 0x20, 4) & 1, Is.Zero, "not computing any more");
    }

    [Test]
    public void LargePagesAndThreeLevelTablesTranslate()
    {
        using var m = NewMachine();
        Setup(m);
        const ulong Iova2M = 0x0A00_0000, Ram2M = 0x0060_0000, Pd3 = 0x10_6000, Pdpt3 = 0x10_7000;
        W64(m, Pd + ((Iova2M >> 21) & 511) * 8, Ram2M | 0x80 | 3);         // 2 MiB page, writeable
        Assert.That(m.Iommu.Translate(1 << 3, Iova2M + 0x1_2345, true, out ulong pa), Is.True);
        Assert.That(pa, Is.EqualTo(Ram2M + 0x1_2345));
        W64(m, Pdpt + 1 * 8, 0x4000_0000 | 0x80 | 1);                      // 1 GiB page at IOVA 1 GiB, read-only
        Assert.That(m.Iommu.Translate(1 << 3, 0x4000_0000 + 0x123_4567, false, out pa) && pa == 0x4000_0000 + 0x123_4567);
        Assert.That(m.Iommu.Translate(1 << 3, 0x4000_0000, true, out _), Is.False, "read-only large page refuses writes");

        // The DMA engine's context switched to a 3-level (39-bit) hierarchy: PDPT at the top.
        const ushort engine = 2 << 3;
        W64(m, Context + engine * 16, Pdpt3 | 1);
        W64(m, Context + engine * 16 + 8, 1 | (2UL << 8));                 // AW 39-bit, domain 2
        m.Memory.Mmio.Write(Q35Layout.VtdBase + 0x28, 8, (1UL << 63) | (1UL << 61));   // global context invalidation
        W64(m, Pdpt3, Pd3 | 3);
        W64(m, Pd3, Ram2M | 0x80 | 3);
        Assert.That(m.Iommu.Translate(engine, 0x1000, true, out pa) && pa == Ram2M + 0x1000);
        Assert.That(m.Iommu.Translate(engine, 1UL << 39, true, out _), Is.False, "beyond a 39-bit address width");
    }

    [Test]
    public void OracleFlagsADmaWriteThroughAStaleTranslation()
    {
        using var m = NewMachine();
        Setup(m);
        EduDma(m, Iova, EduDevice.BufferAddress, 64, toRam: false);        // fills the IOTLB for IOVA+0 -> A
        EduDma(m, EduDevice.BufferAddress, Iova + 8192, 64, toRam: true);  // a writeable mapping: fine
        Assert.That(m.KhoOracle.Violations, Is.Empty);

        W64(m, Pt, 0);                                                      // unmap IOVA+0, forget to invalidate
        EduDma(m, EduDevice.BufferAddress, Iova, 64, toRam: true);         // lands in A through the stale entry
        Assert.That(m.Edu.DmaFailures, Is.Zero, "the IOMMU model lets it through, as hardware would");
        Assert.That(m.KhoOracle.Violations, Has.Count.EqualTo(1));
        Assert.That(m.KhoOracle.Violations[0], Does.Contain("00:01.0").And.Contain($"0x{RamA:x}").And.Contain("do not map"));
    }

    [Test]
    public void DmaEngineWritesAContinuousRingAndCountsFaults()
    {
        using var m = NewMachine();
        Setup(m);
        var mmio = m.Memory.Mmio;
        mmio.Write(EngineBar + 0x08, 8, Iova);
        mmio.Write(EngineBar + 0x10, 4, 16);
        mmio.Write(EngineBar + 0x14, 4, 20_000);
        mmio.Write(EngineBar + 0x18, 4, 1);
        m.Clock.AdvanceTo(m.Clock.Now + 20_000 * 10);
        Assert.That(mmio.Read(EngineBar + 0x28, 8), Is.EqualTo(10UL), "ten records in ten periods");
        for (ulong i = 0; i < 10; i++) Assert.That(R64(m, RamA + i * 16), Is.EqualTo(i), $"sequence at slot {i}");
        W64(m, Pt, 0);                                                     // unmap the ring and invalidate globally
        mmio.Write(Q35Layout.VtdBase + 0xF8, 8, (1UL << 63) | (1UL << 60));
        m.Clock.AdvanceTo(m.Clock.Now + 20_000 * 3);
        Assert.That(mmio.Read(EngineBar + 0x30, 8), Is.EqualTo(3UL), "faulted writes");
        Assert.That(m.Iommu.FaultCount, Is.EqualTo(3));
        mmio.Write(EngineBar + 0x18, 4, 0);
        Assert.That(m.DmaEngine.Running, Is.False);
    }
}

/// <summary>Whatever a guest writes to the PCI, IOMMU and device registers, the host keeps running.</summary>
public sealed class DeviceRegisterFuzzTests
{
    [Test]
    public void RandomRegisterTrafficNeverThrows()
    {
        using var m = new PcMachine(new MachineConfig());
        var rng = new Random(20261123);
        var mmio = m.Memory.Mmio;
        // Start from a working set-up (BARs placed, bus mastering, translation on through the Setup tables, the
        // engine running) so the random traffic reaches DMA, translation and interrupt delivery, not just decoding.
        PciIommuTests.SetupForFuzz(m);
        mmio.Write(0xC010_0000 + 0x08, 8, 0x0800_0000);
        mmio.Write(0xC010_0000 + 0x10, 4, 64);
        mmio.Write(0xC010_0000 + 0x18, 4, 1);
        ulong[] bases = [Q35Layout.VtdBase, 0xC000_0000, 0xC010_0000, Q35Layout.EcamBase, Q35Layout.IoApicBase, 0xFEE0_0000];
        for (int i = 0; i < 200_000; i++)
        {
            int size = 1 << rng.Next(4);
            ulong value = (ulong)rng.NextInt64() ^ ((ulong)rng.NextInt64() << 32);
            switch (rng.Next(5))
            {
                case 0:
                    m.Ports.Write(0xCF8, 4, 0x8000_0000u | (uint)rng.Next(1 << 16) << 8 | (uint)(rng.Next(64) * 4));
                    m.Ports.Write((ushort)(0xCFC + rng.Next(4)), Math.Min(size, 4), (uint)value);
                    break;
                case 1:
                    ulong b = bases[rng.Next(bases.Length)];
                    ulong off = (ulong)rng.Next(0x300) & ~(ulong)(size - 1);
                    if (mmio.IsClaimed(b + off)) mmio.Write(b + off, size, value);
                    break;
                case 2:
                    b = bases[rng.Next(bases.Length)];
                    off = (ulong)rng.Next(0x300) & ~(ulong)(size - 1);
                    if (mmio.IsClaimed(b + off)) mmio.Read(b + off, size);
                    break;
                case 3:
                    m.Clock.AdvanceTo(m.Clock.Now + (ulong)rng.Next(100_000));
                    break;
                default:
                    m.Memory.Write((ulong)rng.Next(0, 64 << 20) & ~7UL, BitConverter.GetBytes(value));
                    break;
            }
        }
        Assert.That(m.Iommu.IotlbHits + m.Iommu.IotlbMisses, Is.GreaterThan(0), "DMA reached the IOMMU");
        Assert.That(m.Edu.DmaTransfers + m.Edu.DmaFailures + (long)m.DmaEngine.Written + (long)m.DmaEngine.Faults, Is.GreaterThan(0));
        Assert.Pass($"engine {m.DmaEngine.Written} written / {m.DmaEngine.Faults} faulted, edu {m.Edu.DmaTransfers} / {m.Edu.DmaFailures}, {m.Iommu.FaultCount} DMA faults recorded, {m.Pci.Conflicts.Count} BAR conflicts refused, {m.IoApic.Delivered} I/O APIC deliveries");
    }
}
