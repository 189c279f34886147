using System.Buffers.Binary;
using KhoEmu.Machine.Board;
using NUnit.Framework;
using static KhoEmu.Machine.Tests.DeviceState.StateRig;

namespace KhoEmu.Machine.Tests.DeviceState;

/// <summary>The PCI functions, the VT-d unit and fw_cfg across a save and a load into a fresh machine.</summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class PciDeviceStateTests
{
    private const ulong EduBar = 0xC000_0000, DmaBar = 0xC010_0000;

    private static void Config(PcMachine m, int slot, int reg, uint value, int size = 4)
    {
        m.Ports.Write(0xCF8, 4, 0x8000_0000u | (uint)slot << 11 | (uint)(reg & 0xFC));
        m.Ports.Write((ushort)(0xCFC + (reg & 3)), size, value);
    }

    private static void PlaceBar(PcMachine m, int slot, ulong bar)
    {
        Config(m, slot, 0x10, (uint)bar);
        Config(m, slot, 0x04, 0x6);                   // memory decoding, bus master
    }

    private static byte[] Ram(PcMachine m, ulong address, int length)
    {
        var b = new byte[length];
        Assert.That(m.Memory.Read(address, b), Is.True);
        return b;
    }

    [Test]
    public void EduKeepsItsBufferRegistersAndTransferInFlight()
    {
        using var a = NewMachine();
        PlaceBar(a, Q35Layout.EduSlot, EduBar);
        Config(a, Q35Layout.HostBridgeSlot, 0x0D, 0x40, size: 1);   // host bridge latency timer
        var pattern = Enumerable.Range(0, 64).Select(i => (byte)(i * 7 + 1)).ToArray();
        a.Memory.Write(0x1000, pattern);
        var mmio = a.Memory.Mmio;
        mmio.Write(EduBar + 0x04, 4, 0x1234);
        mmio.Write(EduBar + 0x08, 4, 5);
        mmio.Write(EduBar + 0x80, 8, 0x1000);
        mmio.Write(EduBar + 0x88, 8, 0x40000);
        mmio.Write(EduBar + 0x90, 8, 64);
        mmio.Write(EduBar + 0x98, 8, 1);              // RAM -> buffer
        a.Clock.AdvanceTo(50_000);
        mmio.Write(EduBar + 0x80, 8, 0x40000);
        mmio.Write(EduBar + 0x88, 8, 0x3000);
        mmio.Write(EduBar + 0x98, 8, 1 | 2 | 4);      // buffer -> RAM, interrupt when done: in flight now
        mmio.Write(EduBar + 0x60, 4, 0x8);            // an INTx request: PIRQ asserted
        using var b = Restore(a, "pci/00:01.0", "pci/00:00.0", "pci", "clock");
        Same(a, b, m => m.Memory.Mmio.Read(EduBar + 0x98, 4), "DMA command (run bit set)");
        Same(a, b, m => m.Memory.Mmio.Read(EduBar + 0x04, 4), "liveness");
        Same(a, b, m => m.Memory.Mmio.Read(EduBar + 0x08, 4), "factorial");
        AdvanceBoth(a, b, 100_000);
        Assert.That(Ram(b, 0x3000, 64), Is.EqualTo(pattern), "the restored transfer wrote the saved buffer");
        Same(a, b, m => m.Memory.Mmio.Read(EduBar + 0x24, 4), "interrupt status");
        Same(a, b, m => m.Edu.DmaTransfers, "transfers");
    }

    [Test]
    public void DmaEngineKeepsTickingIntoItsRing()
    {
        using var a = NewMachine();
        PlaceBar(a, Q35Layout.DmaEngineSlot, DmaBar);
        var mmio = a.Memory.Mmio;
        mmio.Write(DmaBar + 0x08, 8, 0x20000);
        mmio.Write(DmaBar + 0x10, 4, 8);
        mmio.Write(DmaBar + 0x14, 4, 5000);
        mmio.Write(DmaBar + 0x18, 4, 1);
        a.Clock.AdvanceTo(12_000);
        using var b = Restore(a, "pci/00:02.0", "clock");
        Same(a, b, m => m.Clock.NextDeadline, "next tick");
        AdvanceBoth(a, b, 62_000);
        Same(a, b, m => m.Memory.Mmio.Read(DmaBar + 0x28, 8), "records written");
        Same(a, b, m => m.Memory.Mmio.Read(DmaBar + 0x20, 8), "next sequence");
        // Ten ticks since the restore wrote every slot of the 8-entry ring on both machines.
        Same(a, b, m => Ram(m, 0x20000, 8 * 16), "the ring");
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(Ram(b, 0x20000, 8)), Is.EqualTo(8UL), "slot 0 holds record 8");
    }

    [Test]
    public void VtdKeepsItsRegistersAndInvalidationQueuePosition()
    {
        using var a = NewMachine();
        const ulong vtd = Q35Layout.VtdBase;
        void Descriptor(PcMachine m, ulong at, uint status, ulong statusAddress)
        {
            var d = new byte[16];
            BinaryPrimitives.WriteUInt64LittleEndian(d, 5 | 0x20 | (ulong)status << 32);   // wait, status write
            BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(8), statusAddress);
            m.Memory.Write(at, d);
        }
        var mmio = a.Memory.Mmio;
        mmio.Write(vtd + 0x38, 4, 0);                 // fault events unmasked
        mmio.Write(vtd + 0x3C, 4, 0x4455);
        mmio.Write(vtd + 0x20, 8, 0x30000);
        mmio.Write(vtd + 0x18, 4, 1u << 30);          // SRTP
        mmio.Write(vtd + 0x90, 8, 0x40000);
        mmio.Write(vtd + 0x18, 4, 1u << 26);          // QIE
        Descriptor(a, 0x40000, 0xABCD, 0x50000);
        mmio.Write(vtd + 0x88, 8, 0x10);
        Assert.That(mmio.Read(vtd + 0x80, 8), Is.EqualTo(0x10UL), "the first descriptor was processed");
        using var b = Restore(a, "vtd");
        foreach (ulong reg in new ulong[] { 0x1C, 0x20, 0x38, 0x3C, 0x80, 0x88, 0x90 })
            Same(a, b, m => m.Memory.Mmio.Read(vtd + reg, 4), $"register 0x{reg:x}");
        foreach (var m in new[] { a, b })
        {
            Descriptor(m, 0x40010, 0x1111, 0x50008);
            m.Memory.Mmio.Write(vtd + 0x88, 8, 0x20);
        }
        Same(a, b, m => m.Memory.Mmio.Read(vtd + 0x80, 8), "IQH after the next descriptor");
        Same(a, b, m => Ram(m, 0x50008, 4), "the next wait descriptor's status write");
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(Ram(b, 0x50008, 4)), Is.EqualTo(0x1111u));
        AssertSameDevices(a, b, "after the descriptor");
    }

    [Test]
    public void FwCfgKeepsTheSelectedItemAndOffset()
    {
        using var a = NewMachine();
        a.Ports.Write(0x510, 2, 0x0000);              // the signature item
        Assert.That(a.Ports.Read(0x511, 1), Is.EqualTo((uint)'Q'));
        a.Ports.Write(0x514, 4, 0x1234_5678);         // DMA address, high half
        using var b = Restore(a, "fw_cfg");
        for (int i = 0; i < 4; i++) Same(a, b, m => m.Ports.Read(0x511, 1), $"data byte {i}");
    }
}
