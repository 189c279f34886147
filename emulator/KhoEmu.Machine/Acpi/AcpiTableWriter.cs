using System.Buffers.Binary;
using System.Text;

namespace KhoEmu.Machine.Acpi;

/// <summary>
/// Builds one ACPI table: the 36-byte system description header (ACPI 6.5 §5.2.6), little-endian fields, and the
/// length and checksum filled in by <see cref="Finish"/> (all bytes of the table sum to zero).
/// </summary>
public sealed class AcpiTableWriter
{
    public const string OemId = "KHOEMU", OemTableId = "KHOEMUPC", CreatorId = "KHOE";
    public const uint OemRevision = 1, CreatorRevision = 1;
    public const int HeaderLength = 36, ChecksumOffset = 9;

    private readonly List<byte> _bytes = [];

    public AcpiTableWriter(string signature, byte revision)
    {
        if (signature.Length != 4) throw new ArgumentException("ACPI signatures are 4 characters");
        Ascii(signature, 4);
        U32(0);                                                  // length, set by Finish
        U8(revision);
        U8(0);                                                   // checksum, set by Finish
        Ascii(OemId, 6);
        Ascii(OemTableId, 8);
        U32(OemRevision);
        Ascii(CreatorId, 4);
        U32(CreatorRevision);
    }

    /// <summary>Bytes so far (offsets of fields that the table loader patches are taken from this).</summary>
    public int Length => _bytes.Count;

    public AcpiTableWriter U8(byte v) { _bytes.Add(v); return this; }
    public AcpiTableWriter U16(ushort v) { Span<byte> b = stackalloc byte[2]; BinaryPrimitives.WriteUInt16LittleEndian(b, v); _bytes.AddRange(b); return this; }
    public AcpiTableWriter U32(uint v) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); _bytes.AddRange(b); return this; }
    public AcpiTableWriter U64(ulong v) { Span<byte> b = stackalloc byte[8]; BinaryPrimitives.WriteUInt64LittleEndian(b, v); _bytes.AddRange(b); return this; }
    public AcpiTableWriter Bytes(ReadOnlySpan<byte> data) { _bytes.AddRange(data); return this; }
    public AcpiTableWriter Zeros(int count) { _bytes.AddRange(new byte[count]); return this; }

    /// <summary>Space-padded ASCII of exactly <paramref name="width"/> bytes.</summary>
    public AcpiTableWriter Ascii(string text, int width)
    {
        if (text.Length > width) throw new ArgumentException($"\"{text}\" is longer than {width}");
        _bytes.AddRange(Encoding.ASCII.GetBytes(text.PadRight(width)));
        return this;
    }

    /// <summary>Generic Address Structure (§5.2.3.2): space id, bit width, bit offset, access size, 64-bit address.</summary>
    public AcpiTableWriter Gas(byte spaceId, byte bitWidth, byte bitOffset, byte accessSize, ulong address) =>
        U8(spaceId).U8(bitWidth).U8(bitOffset).U8(accessSize).U64(address);

    /// <summary>Sets the length field, then the checksum so that the table sums to zero.</summary>
    public byte[] Finish()
    {
        var table = _bytes.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(table.AsSpan(4), (uint)table.Length);
        table[ChecksumOffset] = Checksum(table);
        return table;
    }

    /// <summary>The byte that makes <paramref name="data"/> sum to zero (treating the current checksum byte as 0 is
    /// the caller's business: call it with that byte zeroed).</summary>
    public static byte Checksum(ReadOnlySpan<byte> data)
    {
        byte sum = 0;
        foreach (byte b in data) sum += b;
        return (byte)(0x100 - sum);
    }
}
