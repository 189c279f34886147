using System.Buffers.Binary;
using KhoEmu.Cpu.Smp;
using KhoEmu.Devices.FwCfg;
using KhoEmu.Machine.Acpi;
using NUnit.Framework;

namespace KhoEmu.Machine.Tests.Smp;

/// <summary>
/// <c>-smp</c> as QEMU 7.2 parses it (each accepted/refused case checked against qemu-system-x86_64 -M q35), the APIC
/// IDs a topology gives, and what the board tells the guest about N processors (MADT, fw_cfg, CMOS).
/// </summary>
public sealed class SmpOptionTests
{
    [TestCase("2", 1, 2, 1)]
    [TestCase("cpus=2", 1, 2, 1)]
    [TestCase("4,sockets=2", 2, 2, 1)]
    [TestCase("sockets=2,cores=2", 2, 2, 1)]
    [TestCase("2,threads=2", 1, 1, 2)]
    [TestCase("cpus=4,sockets=1,cores=2,threads=2", 1, 2, 2)]
    [TestCase("8", 1, 8, 1)]
    [TestCase("2,maxcpus=2,dies=1", 1, 2, 1)]
    public void AcceptsQemusForms(string spec, int sockets, int cores, int threads) =>
        Assert.That(SmpOption.Parse(spec), Is.EqualTo(new CpuTopology(sockets, cores, threads)));

    [TestCase("3,sockets=2", "must equal maxcpus (3)")]
    [TestCase("4,maxcpus=8", "CPU hot-plug")]
    [TestCase("2,dies=2", "not modelled")]
    [TestCase("0", "whole number from 1")]
    [TestCase("two", "whole number from 1")]
    [TestCase("2,colour=red", "unknown property 'colour'")]
    [TestCase("2,4", "not a property")]
    [TestCase("256", "at most 255")]
    public void RefusesWithOneLine(string spec, string why) =>
        Assert.That(() => SmpOption.Parse(spec), Throws.TypeOf<FormatException>().With.Message.Contains(why)
            .And.Message.Not.Contains("\n"));

    [Test]
    public void ApicIdsPackThreadCoreAndSocketFields()
    {
        // SDM vol. 3, 9.9.1: a field per level, each as wide as its count needs; 3 cores take 2 bits.
        var t = new CpuTopology(2, 3, 1);
        Assert.That(Enumerable.Range(0, t.Count).Select(t.ApicId), Is.EqualTo(new[] { 0, 1, 2, 4, 5, 6 }));
        var ht = new CpuTopology(1, 2, 2);
        Assert.That(Enumerable.Range(0, ht.Count).Select(ht.ApicId), Is.EqualTo(new[] { 0, 1, 2, 3 }));
        Assert.That((ht.ThreadBits, ht.PackageShift), Is.EqualTo((1, 2)));
        Assert.That(Enumerable.Range(0, 8).Select(CpuTopology.Cores1Socket(8).ApicId), Is.EqualTo(Enumerable.Range(0, 8)));
    }

    [Test]
    public void MadtListsOneEnabledLocalApicPerProcessor()
    {
        using var m = new PcMachine(new MachineConfig { Smp = new CpuTopology(2, 3, 1) });
        var table = m.Acpi.Tables.AsSpan(m.Acpi.Offsets["APIC"]);
        int length = BinaryPrimitives.ReadInt32LittleEndian(table[4..]);
        var found = new List<(int Uid, int ApicId, uint Flags)>();
        for (int off = 44; off < length; off += table[off + 1])
            if (table[off] == Madt.TypeLocalApic)
                found.Add((table[off + 2], table[off + 3], BinaryPrimitives.ReadUInt32LittleEndian(table[(off + 4)..])));
        Assert.That(found, Is.EqualTo(new[] { (0, 0, 1u), (1, 1, 1u), (2, 2, 1u), (3, 4, 1u), (4, 5, 1u), (5, 6, 1u) }));
        Assert.That(m.Cpus.Select(c => c.InitialApicId), Is.EqualTo(new[] { 0, 1, 2, 4, 5, 6 }));
        Assert.That(m.Apics.Select(a => a.Id), Is.EqualTo(new[] { 0, 1, 2, 4, 5, 6 }));
    }

    [Test]
    public void FwCfgAndCmosCountTheProcessors()
    {
        using var m = new PcMachine(new MachineConfig { Smp = CpuTopology.Cores1Socket(4) });
        Assert.That(ReadFwCfgU32(m, FwCfgKeys.NbCpus), Is.EqualTo(4u));
        Assert.That(ReadFwCfgU32(m, FwCfgKeys.MaxCpus), Is.EqualTo(4u), "APIC ID limit");
        m.Ports.Write(0x70, 1, 0x5F);
        Assert.That(m.Ports.Read(0x71, 1), Is.EqualTo(3u), "CMOS 0x5F: processors - 1, as QEMU's");
    }

    private static uint ReadFwCfgU32(PcMachine m, ushort key)
    {
        m.Ports.Write(0x510, 2, key);
        uint v = 0;
        for (int i = 0; i < 4; i++) v |= (uint)m.Ports.Read(0x511, 1) << (8 * i);
        return v;
    }
}
