using System.Buffers.Binary;
using KhoEmu.Devices.FwCfg;
using KhoEmu.Memory;
using NUnit.Framework;

namespace KhoEmu.Machine.Tests;

/// <summary>fw_cfg's DMA interface with the lengths a guest may choose, including absurd ones.</summary>
public sealed class FwCfgTests
{
    private const ulong Desc = 0x1000, Buf = 0x2000;

    private static uint Dma(PhysicalMemory mem, FwCfg cfg, uint control, uint length, ulong address)
    {
        var d = new byte[16];
        BinaryPrimitives.WriteUInt32BigEndian(d, control);
        BinaryPrimitives.WriteUInt32BigEndian(d.AsSpan(4), length);
        BinaryPrimitives.WriteUInt64BigEndian(d.AsSpan(8), address);
        mem.Write(Desc, d);
        cfg.WritePort(4, 4, 0);
        cfg.WritePort(8, 4, BinaryPrimitives.ReverseEndianness((uint)Desc));
        var status = new byte[4];
        mem.Read(Desc, status);
        return BinaryPrimitives.ReadUInt32BigEndian(status);
    }

    private static (PhysicalMemory, FwCfg, ushort) NewDevice()
    {
        var mem = new PhysicalMemory(16UL << 20);
        var cfg = new FwCfg(mem);
        cfg.AddFile("opt/test", [1, 2, 3, 4, 5, 6, 7, 8]);
        // The first file gets the first file selector (0x20), as in QEMU.
        return (mem, cfg, 0x20);
    }

    [Test]
    public void ReadPastTheEndGivesZerosAndSkipIsBounded()
    {
        var (mem, cfg, key) = NewDevice();
        using var _ = mem;
        mem.Write(Buf, Enumerable.Repeat((byte)0xEE, 32).ToArray());
        Assert.That(Dma(mem, cfg, (uint)key << 16 | 8 | 2, 12, Buf), Is.Zero, "select + read");
        var got = new byte[16];
        mem.Read(Buf, got);
        Assert.That(got, Is.EqualTo(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0xEE, 0xEE, 0xEE, 0xEE }));

        Assert.That(Dma(mem, cfg, (uint)key << 16 | 8 | 4, 0xFFFF_FFFF, 0), Is.Zero, "a 4 GiB skip");
        Assert.That(Dma(mem, cfg, 2, 4, Buf), Is.Zero);
        mem.Read(Buf, got);
        Assert.That(got[..4], Is.EqualTo(new byte[4]), "past the end after the skip: zeros");
        cfg.WritePort(0, 2, key);
        Assert.That(cfg.ReadPort(1, 1), Is.EqualTo(1u), "the data port starts again at offset 0");
    }

    [Test]
    public void HugeReadFailsAtTheEndOfRamWithoutAHugeHostBuffer()
    {
        var (mem, cfg, key) = NewDevice();
        using var _ = mem;
        long before = GC.GetAllocatedBytesForCurrentThread();
        uint status = Dma(mem, cfg, (uint)key << 16 | 8 | 2, 0xFFFF_FFFF, Buf);
        Assert.That(status, Is.EqualTo(1u), "error: the transfer ran off the end of RAM");
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.LessThan(1 << 20), "no 4 GiB buffer");
        var got = new byte[8];
        mem.Read(Buf, got);
        Assert.That(got, Is.EqualTo(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }));
    }
}
