using KhoEmu.Machine.Board;
using KhoEmu.Memory;
using NUnit.Framework;

namespace KhoEmu.Machine.Tests.Board;

[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class Q35LayoutTests
{
    [Test]
    public void LayoutNamesAreUniqueAndNoPortsOrMmioOverlap()
    {
        Assert.That(Q35Layout.Devices.Select(d => d.Name), Is.Unique);
        var ports = Q35Layout.Devices.SelectMany(d => d.Ports.Select(r => (d.Name, r))).ToList();
        var clashes = (from a in ports
                       from b in ports
                       where string.CompareOrdinal(a.Name, b.Name) < 0 && a.r.Base <= b.r.Last && b.r.Base <= a.r.Last
                       select $"{a.Name}/{b.Name}").ToList();
        Assert.That(clashes, Is.Empty, "RST_CNT at 0xCF9 is a byte PCI's CONFIG_ADDRESS decode leaves out, as on ICH9");
        var mmio = Q35Layout.Devices.Where(d => d.Mmio is not null).Select(d => (d.Name, m: d.Mmio!.Value)).ToList();
        Assert.That(mmio.SelectMany(a => mmio.Where(b => a.Name != b.Name && a.m.Base < b.m.End && b.m.Base < a.m.End)), Is.Empty);
        Assert.That(mmio.Where(d => d.m.Base < Q35Layout.PciMmio32.End && Q35Layout.PciMmio32.Base < d.m.End), Is.Empty,
            "the PCI window is free for BARs");
    }

    [Test]
    public void MachineRegistersEveryDeviceWhereTheLayoutSays()
    {
        using var m = new PcMachine(new MachineConfig());
        foreach (var d in m.Devices.Devices)
        {
            Assert.That(Q35Layout.Devices, Does.Contain(d.Board), d.Board.Name);
            foreach (var r in d.Board.Ports)
                Assert.That(m.Ports.Ranges, Does.Contain((r.Base, r.Count, d.Board.Name)), d.Board.Name);
            if (d.Board.Mmio is { } mm)
                Assert.That(m.Memory.Mmio.Regions, Does.Contain((mm.Base, mm.Size, d.Board.Name)), d.Board.Name);
        }
        Assert.That(m.Devices.Find("edu")!.Device, Is.SameAs(m.Edu));
        Assert.That(m.Edu.SourceId >> 3, Is.EqualTo(Q35Layout.EduSlot));
        Assert.That(m.Devices.Find("uart-com1")!.Board.Gsis, Is.EqualTo(new[] { 4 }));
        Assert.That(Q35Layout.Pit.Gsis, Is.EqualTo(new[] { 2 }));
        var e = Assert.Throws<ArgumentException>(() => m.Devices.Add(Q35Layout.DebugExit, new object()));
        Assert.That(e!.Message, Does.Contain("registered twice"));
    }

    [Test]
    public void MemoryMapHasTheBoardsHolesOnEachBootPath()
    {
        using var direct = new PcMachine(new MachineConfig());
        var map = direct.Memory.MemoryMap();
        Assert.That(map.Select(x => x.Address), Is.Ordered);
        for (int i = 1; i < map.Count; i++) Assert.That(map[i].Address, Is.GreaterThanOrEqualTo(map[i - 1].Address + map[i - 1].Length));
        Assert.That(map, Does.Contain(new E820Entry(0, 0x9FC00, E820Type.Ram)));
        Assert.That(map, Does.Contain(new E820Entry(0x9FC00, 0x400, E820Type.Reserved)));
        Assert.That(map, Does.Contain(new E820Entry(0xE0000, 0x10000, E820Type.Acpi)));
        Assert.That(map, Does.Contain(new E820Entry(0xF0000, 0x10000, E820Type.Reserved)));
        Assert.That(map, Does.Contain(new E820Entry(0x100000, direct.Memory.LowRamSize - 0x100000, E820Type.Ram)));
        Assert.That(map.Any(x => x.Address < 0xE0000 && x.Address + x.Length > 0xA0000), Is.False, "VGA and option ROMs absent");

        using var firmware = new PcMachine(new MachineConfig { Firmware = new byte[4096], MemorySize = 3UL << 30 });
        var fmap = firmware.Memory.MemoryMap();
        Assert.That(fmap.Any(x => x.Type == E820Type.Acpi), Is.False, "the firmware places the tables itself");
        Assert.That(fmap, Does.Contain(new E820Entry(Q35Layout.HighRamBase, 1UL << 30, E820Type.Ram)));
        Assert.That(fmap, Does.Contain(new E820Entry(Q35Layout.RomEnd - 4096, 4096, E820Type.Reserved)));
        Assert.That(firmware.AcpiRsdpAddress, Is.Zero);
    }
}
