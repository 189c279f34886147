using System.Buffers.Binary;
using System.Text;

namespace KhoEmu.Machine.Acpi;

/// <summary>
/// Writes and runs QEMU's table-loader script. The firmware runs it in the guest (firmware/AcpiLoader); direct boot runs
/// the same script here, with the allocations placed by the board, so both boot paths install identical tables.
/// </summary>
public static class TableLoader
{
    public static byte[] Serialize(IEnumerable<TableLoaderCommand> commands)
    {
        var list = commands.ToList();
        var blob = new byte[TableLoaderCommand.EntrySize * list.Count];
        for (int i = 0; i < list.Count; i++)
        {
            var c = list[i];
            var e = blob.AsSpan(TableLoaderCommand.EntrySize * i, TableLoaderCommand.EntrySize);
            BinaryPrimitives.WriteUInt32LittleEndian(e, (uint)c.Kind);
            Name(e[4..], c.File);
            switch (c.Kind)
            {
                case TableLoaderCommandKind.Allocate:
                    BinaryPrimitives.WriteUInt32LittleEndian(e[60..], c.Align);
                    e[64] = c.Zone;
                    break;
                case TableLoaderCommandKind.AddPointer:
                    Name(e[60..], c.SourceFile);
                    BinaryPrimitives.WriteUInt32LittleEndian(e[116..], c.Offset);
                    e[120] = c.Size;
                    break;
                case TableLoaderCommandKind.AddChecksum:
                    BinaryPrimitives.WriteUInt32LittleEndian(e[60..], c.Offset);
                    BinaryPrimitives.WriteUInt32LittleEndian(e[64..], c.Start);
                    BinaryPrimitives.WriteUInt32LittleEndian(e[68..], c.Length);
                    break;
            }
        }
        return blob;
    }

    private static void Name(Span<byte> field, string name)
    {
        if (name.Length >= TableLoaderCommand.FileNameSize) throw new ArgumentException($"fw_cfg file name \"{name}\" is too long");
        Encoding.ASCII.GetBytes(name).CopyTo(field);
    }

    /// <summary>
    /// Runs <paramref name="commands"/> over <paramref name="files"/>: <paramref name="allocate"/> places each file
    /// (name, size, align, zone → guest address); returns each file's address and its final bytes. Bad scripts (a file
    /// used before it is allocated, a range outside a file) are a clear error.
    /// </summary>
    public static IReadOnlyDictionary<string, (ulong Address, byte[] Data)> Run(IEnumerable<TableLoaderCommand> commands,
        IReadOnlyDictionary<string, byte[]> files, Func<string, int, uint, byte, ulong> allocate)
    {
        var placed = new Dictionary<string, (ulong Address, byte[] Data)>();
        (ulong Address, byte[] Data) Placed(string name) => placed.TryGetValue(name, out var p) ? p
            : throw new InvalidDataException($"table-loader uses \"{name}\" before allocating it");
        foreach (var c in commands)
        {
            switch (c.Kind)
            {
                case TableLoaderCommandKind.Allocate:
                    if (!files.TryGetValue(c.File, out var data)) throw new InvalidDataException($"table-loader allocates unknown file \"{c.File}\"");
                    if (c.Align == 0 || (c.Align & (c.Align - 1)) != 0) throw new InvalidDataException($"alignment {c.Align} of \"{c.File}\" is not a power of two");
                    placed[c.File] = (allocate(c.File, data.Length, c.Align, c.Zone), (byte[])data.Clone());
                    break;
                case TableLoaderCommandKind.AddPointer:
                {
                    var dest = Placed(c.File).Data;
                    ulong target = Placed(c.SourceFile).Address;
                    if (c.Size is not (1 or 2 or 4 or 8) || c.Offset + (ulong)c.Size > (ulong)dest.Length)
                        throw new InvalidDataException($"pointer at {c.Offset} (+{c.Size}) lies outside \"{c.File}\"");
                    ulong v = 0;
                    for (int i = 0; i < c.Size; i++) v |= (ulong)dest[c.Offset + i] << (8 * i);
                    v += target;
                    for (int i = 0; i < c.Size; i++) dest[c.Offset + i] = (byte)(v >> (8 * i));
                    break;
                }
                case TableLoaderCommandKind.AddChecksum:
                {
                    var file = Placed(c.File).Data;
                    if (c.Offset >= file.Length || c.Start + (ulong)c.Length > (ulong)file.Length)
                        throw new InvalidDataException($"checksum range {c.Start}+{c.Length} lies outside \"{c.File}\"");
                    byte sum = 0;
                    for (uint i = 0; i < c.Length; i++) sum += file[c.Start + i];
                    file[c.Offset] -= sum;
                    break;
                }
            }
        }
        return placed;
    }
}
