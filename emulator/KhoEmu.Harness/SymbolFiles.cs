using KhoEmu.Elf;

namespace KhoEmu.Harness;

/// <summary>
/// Symbol tables read from ELF files on the host (a vmlinux, a kernel, --symbols files), for the KHO oracle's
/// reports and for traces: one place for reading, parsing and the errors a bad file gives.
/// </summary>
public static class SymbolFiles
{
    /// <summary>The symbols of the ELF file at <paramref name="path"/>; null (and <paramref name="error"/> says why)
    /// when it cannot be read, is not an ELF or has no symbols.</summary>
    public static SymbolTable? TryLoad(string path, out string? error)
    {
        var table = new SymbolTable();
        return TryAdd(table, path, out error) ? table : null;
    }

    /// <summary>Adds the symbols of the ELF file at <paramref name="path"/> to <paramref name="table"/>; false (and
    /// why) when it cannot be read, is not an ELF or has no symbols.</summary>
    public static bool TryAdd(SymbolTable table, string path, out string? error)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OutOfMemoryException)
        {
            error = e.Message;
            return false;
        }
        int before = table.Count;
        error = ElfFile.LooksLikeElf(bytes) ? AddImage(table, bytes) : "not an ELF file";
        if (error is null && table.Count == before) error = "no symbols";
        return error is null;
    }

    /// <summary>Adds the symbols of an in-memory image when it is an ELF; returns why not (null when added or when
    /// it is not an ELF at all, which a flat image legitimately is not).</summary>
    public static string? AddImage(SymbolTable table, byte[] image)
    {
        if (!ElfFile.LooksLikeElf(image)) return null;
        try { table.Add(ElfFile.Parse(image)); }
        catch (ElfFormatException e) { return e.Message; }
        return null;
    }
}
