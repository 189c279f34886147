using System.Buffers.Binary;
using System.Text;
using KhoEmu.Machine.Acpi;
using NUnit.Framework;

namespace KhoEmu.Machine.Tests.Acpi;

/// <summary>
/// The fw_cfg ACPI files read back the way a firmware reads them: "etc/table-loader" parsed as 128-byte
/// BiosLinkerLoaderEntry records (QEMU hw/acpi/bios-linker-loader.c) by a reader written here, run against
/// "etc/acpi/tables" and "etc/acpi/rsdp" at made-up addresses, and the result checked.
/// </summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class TableLoaderTests
{
    private sealed record Entry(uint Command, string File, string File2, uint A, uint B, uint C, byte Size, byte Zone);

    private static string Name(ReadOnlySpan<byte> field)
    {
        int n = field.IndexOf((byte)0);
        return Encoding.ASCII.GetString(field[..(n < 0 ? field.Length : n)]);
    }

    private static List<Entry> Parse(byte[] blob)
    {
        Assert.That(blob.Length % 128, Is.Zero, "whole 128-byte entries");
        var list = new List<Entry>();
        for (int off = 0; off < blob.Length; off += 128)
        {
            var e = blob.AsSpan(off, 128);
            uint cmd = BinaryPrimitives.ReadUInt32LittleEndian(e);
            list.Add(cmd switch
            {
                1 => new Entry(1, Name(e.Slice(4, 56)), "", BinaryPrimitives.ReadUInt32LittleEndian(e[60..]), 0, 0, 0, e[64]),
                2 => new Entry(2, Name(e.Slice(4, 56)), Name(e.Slice(60, 56)), BinaryPrimitives.ReadUInt32LittleEndian(e[116..]), 0, 0, e[120], 0),
                3 => new Entry(3, Name(e.Slice(4, 56)), "", BinaryPrimitives.ReadUInt32LittleEndian(e[60..]),
                    BinaryPrimitives.ReadUInt32LittleEndian(e[64..]), BinaryPrimitives.ReadUInt32LittleEndian(e[68..]), 0, 0),
                _ => throw new AssertionException($"unknown command {cmd}"),
            });
        }
        return list;
    }

    private static PcMachine Firmwareless() => new(new MachineConfig());

    [Test]
    public void LoaderAllocatesTablesHighAndRsdpInTheFSegment()
    {
        using var m = Firmwareless();
        var entries = Parse(m.Acpi.Loader);
        var allocs = entries.Where(e => e.Command == 1).ToList();
        Assert.That(allocs.Select(a => (a.File, a.A, a.Zone)), Is.EqualTo(new[]
        {
            ("etc/acpi/tables", 64u, (byte)1), ("etc/acpi/rsdp", 16u, (byte)2),
        }));
        Assert.That(entries.IndexOf(allocs[0]), Is.Zero, "tables allocated before anything refers to them");
        Assert.That(m.FwCfg.FileNames, Does.Contain("etc/acpi/tables").And.Contain("etc/acpi/rsdp").And.Contain("etc/table-loader"));
    }

    [Test]
    public void LoaderRunAtAnyAddressGivesValidLinkedTables()
    {
        using var m = Firmwareless();
        var tables = (byte[])m.Acpi.Tables.Clone();
        var rsdp = (byte[])m.Acpi.Rsdp.Clone();
        var address = new Dictionary<string, ulong> { ["etc/acpi/tables"] = 0x7FF0_0000, ["etc/acpi/rsdp"] = 0xF5A40 };
        var file = new Dictionary<string, byte[]> { ["etc/acpi/tables"] = tables, ["etc/acpi/rsdp"] = rsdp };
        var allocated = new HashSet<string>();
        foreach (var e in Parse(m.Acpi.Loader))
        {
            switch (e.Command)
            {
                case 1: allocated.Add(e.File); break;
                case 2:
                    Assert.That(allocated, Does.Contain(e.File).And.Contain(e.File2));
                    var d = file[e.File];
                    ulong v = 0;
                    for (int i = 0; i < e.Size; i++) v |= (ulong)d[e.A + i] << (8 * i);
                    v += address[e.File2];
                    for (int i = 0; i < e.Size; i++) d[e.A + i] = (byte)(v >> (8 * i));
                    break;
                case 3:
                    var f = file[e.File];
                    Assert.That(f[e.A], Is.Zero, "checksum bytes are zero in the fw_cfg file, as QEMU leaves them");
                    f[e.A] = (byte)-AcpiTestSupport.Sum(f.AsSpan((int)e.B, (int)e.C));
                    break;
            }
        }
        Assert.That(AcpiTestSupport.Sum(rsdp.AsSpan(0, 20)), Is.Zero);
        Assert.That(AcpiTestSupport.Sum(rsdp), Is.Zero);
        ulong xsdt = BinaryPrimitives.ReadUInt64LittleEndian(rsdp.AsSpan(24)) - 0x7FF0_0000;
        uint xsdtLength = BinaryPrimitives.ReadUInt32LittleEndian(tables.AsSpan((int)xsdt + 4));
        Assert.That(Encoding.ASCII.GetString(tables, (int)xsdt, 4), Is.EqualTo("XSDT"));
        var seen = new List<string>();
        for (int off = 36; off < xsdtLength; off += 8)
        {
            int t = (int)(BinaryPrimitives.ReadUInt64LittleEndian(tables.AsSpan((int)xsdt + off)) - 0x7FF0_0000);
            int len = (int)BinaryPrimitives.ReadUInt32LittleEndian(tables.AsSpan(t + 4));
            Assert.That(AcpiTestSupport.Sum(tables.AsSpan(t, len)), Is.Zero, Encoding.ASCII.GetString(tables, t, 4));
            seen.Add(Encoding.ASCII.GetString(tables, t, 4));
        }
        Assert.That(seen, Is.EqualTo(new[] { "FACP", "APIC", "HPET", "MCFG", "DMAR" }));
        // The same script run by the machine's own loader gives the same bytes.
        var placed = TableLoader.Run(m.Acpi.Commands, m.Acpi.Files, (name, _, _, _) => address[name]);
        Assert.That(placed["etc/acpi/tables"].Data, Is.EqualTo(tables));
        Assert.That(placed["etc/acpi/rsdp"].Data, Is.EqualTo(rsdp));
    }

    [Test]
    public void ScriptUsingAFileBeforeAllocatingItIsAClearError()
    {
        var commands = new[] { TableLoaderCommand.AddChecksum("etc/acpi/tables", 9, 0, 36) };
        var e = Assert.Throws<InvalidDataException>(() =>
            TableLoader.Run(commands, new Dictionary<string, byte[]> { ["etc/acpi/tables"] = new byte[64] }, (_, _, _, _) => 0));
        Assert.That(e!.Message, Does.Contain("before allocating"));
    }
}
