using System.Buffers.Binary;
using KhoEmu.Harness;
using KhoEmu.Machine;
using NUnit.Framework;

namespace KhoEmu.Guest.Tests;

/// <summary>
/// Both boot paths of the ACPI tables. Direct PVH boot: hvm_start_info.rsdp_paddr is the RSDP the machine installed.
/// Firmware boot: the C# firmware runs KhoEmu's etc/table-loader, the RSDP lands in the
/// F-segment where a scan finds it, hvm_start_info.rsdp_paddr points at it, and the tables sit in memory the kernel's
/// memory map reserves; on QEMU the same firmware installs QEMU's own tables.
/// </summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class AcpiBootPathTests
{
    private const ulong StartInfo = 0x6000;

    [Test]
    public void DirectPvhBootPassesTheRsdpInTheStartInfo()
    {
        using var m = new PcMachine(new MachineConfig { Kernel = GuestImages.Kernel, CommandLine = "scenario=boot" });
        var info = AcpiTestSupport.ReadBytes(m, StartInfo, 56);
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(info), Is.EqualTo(0x336E_C578u), "PVH start info");
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(info.AsSpan(32)), Is.EqualTo(m.AcpiRsdpAddress).And.Not.Zero);
        Assert.That(m.AcpiRsdpAddress, Is.EqualTo(AcpiTestSupport.ScanForRsdp(m)));
    }

    [Test]
    public void FirmwareInstallsTheTablesAndHandsTheRsdpToTheKernel()
    {
        var serial = new MemoryStream();
        var config = new MachineConfig
        {
            Firmware = GuestImages.Firmware, Kernel = GuestImages.Kernel, CommandLine = "scenario=boot", SerialOutput = serial,
        };
        config.FwCfgFiles.Add(("opt/khoemu/init", GuestImages.Init));
        using var m = new PcMachine(config);
        Assert.That(m.AcpiRsdpAddress, Is.Zero, "with a firmware the machine installs nothing itself");
        // Run until the firmware hands over (its last line), then look at what it left.
        for (int i = 0; i < 4000 && !System.Text.Encoding.ASCII.GetString(serial.ToArray()).Contains("starting the kernel"); i++)
            m.Run(50_000);
        string text = System.Text.Encoding.ASCII.GetString(serial.ToArray());
        Assert.That(text, Does.Contain("firmware: ACPI RSDP at 0x00000000000f0000"), text);

        var info = AcpiTestSupport.ReadBytes(m, StartInfo, 56);
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(info), Is.EqualTo(0x336E_C578u));
        ulong rsdp = BinaryPrimitives.ReadUInt64LittleEndian(info.AsSpan(32));
        Assert.That(rsdp, Is.EqualTo(AcpiTestSupport.ScanForRsdp(m)), "rsdp_paddr is the RSDP a BIOS-area scan finds");

        var tables = AcpiTestSupport.Walk(m, rsdp);
        Assert.That(tables.Keys, Is.SupersetOf(new[] { "FACP", "APIC", "HPET", "MCFG", "DMAR", "DSDT", "FACS" }));
        ulong memmap = BinaryPrimitives.ReadUInt64LittleEndian(info.AsSpan(40));
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(info.AsSpan(48));
        var map = AcpiTestSupport.ReadBytes(m, memmap, (int)(24 * count));
        foreach (var (sig, (address, data)) in tables)
        {
            if (sig != "FACS") Assert.That(AcpiTestSupport.Sum(data), Is.Zero, $"{sig} checksum");
            bool reserved = Enumerable.Range(0, (int)count).Any(i =>
            {
                ulong a = BinaryPrimitives.ReadUInt64LittleEndian(map.AsSpan(24 * i));
                ulong l = BinaryPrimitives.ReadUInt64LittleEndian(map.AsSpan(24 * i + 8));
                uint t = BinaryPrimitives.ReadUInt32LittleEndian(map.AsSpan(24 * i + 16));
                return t == 2 && address >= a && address + (ulong)data.Length <= a + l;
            });
            Assert.That(reserved, $"{sig} at 0x{address:x} lies in a reserved range of the kernel's memory map");
        }
    }
}
