namespace KhoEmu.Machine.Acpi;

/// <summary>
/// One command of QEMU's "etc/table-loader" fw_cfg file (hw/acpi/bios-linker-loader.c, BiosLinkerLoaderEntry):
/// 128 bytes, a u32 command then a union of 124 bytes, file names in 56-byte NUL-padded fields.
/// ALLOCATE file align zone; ADD_POINTER dest src offset size (dest[offset..+size] += address of src);
/// ADD_CHECKSUM file offset start length (file[offset] -= sum of file[start..+length]).
/// </summary>
public sealed record TableLoaderCommand(TableLoaderCommandKind Kind)
{
    public const int EntrySize = 128, FileNameSize = 56;
    public const byte ZoneHigh = 1, ZoneFSegment = 2;

    public string File { get; init; } = "";
    /// <summary>ADD_POINTER: the file the pointer points into.</summary>
    public string SourceFile { get; init; } = "";
    public uint Align { get; init; }
    public byte Zone { get; init; }
    /// <summary>ADD_POINTER: offset of the pointer in <see cref="File"/>; ADD_CHECKSUM: offset of the checksum byte.</summary>
    public uint Offset { get; init; }
    /// <summary>ADD_POINTER: pointer width in bytes (1, 2, 4 or 8).</summary>
    public byte Size { get; init; }
    public uint Start { get; init; }
    public uint Length { get; init; }

    public static TableLoaderCommand Allocate(string file, uint align, byte zone) =>
        new(TableLoaderCommandKind.Allocate) { File = file, Align = align, Zone = zone };

    public static TableLoaderCommand AddPointer(string dest, uint offset, byte size, string source) =>
        new(TableLoaderCommandKind.AddPointer) { File = dest, Offset = offset, Size = size, SourceFile = source };

    public static TableLoaderCommand AddChecksum(string file, uint offset, uint start, uint length) =>
        new(TableLoaderCommandKind.AddChecksum) { File = file, Offset = offset, Start = start, Length = length };
}

/// <summary>BIOS_LINKER_LOADER_COMMAND_* values.</summary>
public enum TableLoaderCommandKind : uint
{
    Allocate = 1,
    AddPointer = 2,
    AddChecksum = 3,
}
