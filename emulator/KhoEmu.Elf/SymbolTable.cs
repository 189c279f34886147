namespace KhoEmu.Elf;

/// <summary>
/// Address-to-name lookup over the function and object symbols of one or more ELF images, for traces, diagnostics
/// and the monitor: <c>name+0xoffset</c> for an address inside (or, for sizeless symbols, after) a symbol.
/// </summary>
public sealed class SymbolTable
{
    private readonly List<(ulong Start, ulong Size, string Name)> _symbols = [];
    private bool _sorted = true;

    public int Count => _symbols.Count;

    /// <summary>Adds the defined code and data symbols of <paramref name="elf"/> (STT_NOTYPE, OBJECT, FUNC).</summary>
    public void Add(ElfFile elf)
    {
        foreach (var s in elf.Symbols())
        {
            if (s.Name.Length == 0 || s.SectionIndex == 0 || s.SectionIndex >= 0xFF00 || s.Type > 2) continue;
            if (s.Name.StartsWith(".L", StringComparison.Ordinal)) continue;
            Add(s.Value, s.Size, s.Name);
        }
    }

    public void Add(ulong address, ulong size, string name)
    {
        _symbols.Add((address, size, name));
        _sorted = false;
    }

    /// <summary>The symbol containing <paramref name="address"/>, as "name" or "name+0x1c"; null when none.</summary>
    public string? Describe(ulong address)
    {
        if (!_sorted)
        {
            // Among symbols at one address prefer the sized one (a function over a label at its start).
            _symbols.Sort((a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : a.Size.CompareTo(b.Size));
            _sorted = true;
        }
        int lo = 0, hi = _symbols.Count - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_symbols[mid].Start <= address) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        // Walk back past zero-size labels to a sized symbol that covers the address, if any.
        for (int i = found; i >= 0 && i > found - 8; i--)
        {
            var (start, size, name) = _symbols[i];
            if (size != 0 && address - start < size) return Format(name, address - start);
        }
        // Otherwise a sizeless label (assembly code) at the nearest address below extends up to the next symbol.
        for (int i = found; i >= 0 && _symbols[i].Start == _symbols[found].Start; i--)
        {
            var (start, size, name) = _symbols[i];
            if (size == 0 && address - start < 0x10000) return Format(name, address - start);
        }
        return null;
    }

    private static string Format(string name, ulong offset) => offset == 0 ? name : $"{name}+0x{offset:x}";
}
