using System.Buffers.Binary;
using System.Text;
using KhoEmu.Machine;
using KhoEmu.Machine.Board;

namespace KhoEmu.Tests;

/// <summary>Test-side reading of installed ACPI tables: the RSDP scan a kernel does and the walk of the XSDT.</summary>
internal static class AcpiTestSupport
{
    /// <summary>ACPI 6.5 §5.2.5.1: the first "RSD PTR " on a 16-byte boundary in 0xE0000-0xFFFFF whose first 20 bytes sum to 0.</summary>
    public static ulong ScanForRsdp(PcMachine m)
    {
        var area = new byte[Q35Layout.BiosArea.Size];
        if (!m.Memory.Read(Q35Layout.BiosArea.Base, area)) return 0;
        for (int off = 0; off + 36 <= area.Length; off += 16)
        {
            if (!area.AsSpan(off, 8).SequenceEqual("RSD PTR "u8)) continue;
            if (Sum(area.AsSpan(off, 20)) == 0) return Q35Layout.BiosArea.Base + (ulong)off;
        }
        return 0;
    }

    public static byte Sum(ReadOnlySpan<byte> data)
    {
        byte s = 0;
        foreach (byte b in data) s += b;
        return s;
    }

    public static byte[] ReadBytes(PcMachine m, ulong address, int length)
    {
        var b = new byte[length];
        if (!m.Memory.Read(address, b)) throw new InvalidOperationException($"0x{address:x}+{length} is not in RAM");
        return b;
    }

    /// <summary>Reads a table at <paramref name="address"/> by its header's length.</summary>
    public static byte[] ReadTable(PcMachine m, ulong address)
    {
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(m, address + 4, 4));
        return ReadBytes(m, address, (int)length);
    }

    public static string Signature(byte[] table) => Encoding.ASCII.GetString(table, 0, 4);

    /// <summary>Every table reachable from the RSDP: the XSDT, its entries, and the FADT's DSDT and FACS.</summary>
    public static Dictionary<string, (ulong Address, byte[] Data)> Walk(PcMachine m, ulong rsdp)
    {
        var r = ReadBytes(m, rsdp, 36);
        var tables = new Dictionary<string, (ulong, byte[])>();
        ulong rsdt = BinaryPrimitives.ReadUInt32LittleEndian(r.AsSpan(16));
        ulong xsdt = BinaryPrimitives.ReadUInt64LittleEndian(r.AsSpan(24));
        tables["RSDT"] = (rsdt, ReadTable(m, rsdt));
        var x = ReadTable(m, xsdt);
        tables["XSDT"] = (xsdt, x);
        for (int off = 36; off + 8 <= x.Length; off += 8)
        {
            ulong a = BinaryPrimitives.ReadUInt64LittleEndian(x.AsSpan(off));
            var t = ReadTable(m, a);
            tables[Signature(t)] = (a, t);
        }
        var fadt = tables["FACP"].Item2;
        ulong dsdt = BinaryPrimitives.ReadUInt64LittleEndian(fadt.AsSpan(140));
        tables["DSDT"] = (dsdt, ReadTable(m, dsdt));
        ulong facs = BinaryPrimitives.ReadUInt32LittleEndian(fadt.AsSpan(36));
        tables["FACS"] = (facs, ReadTable(m, facs));
        return tables;
    }
}
