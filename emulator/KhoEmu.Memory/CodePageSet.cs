namespace KhoEmu.Memory;

/// <summary>
/// The set of guest-physical page numbers that hold decoded instructions. Sparse (a hash set), because code is a tiny
/// fraction of a large guest.
/// </summary>
public sealed class CodePageSet
{
    private readonly HashSet<ulong> _pages = [];

    public int Count => _pages.Count;
    public bool Contains(ulong page) => _pages.Contains(page);
    public bool Add(ulong page) => _pages.Add(page);
    public bool Remove(ulong page) => _pages.Remove(page);
    public void Clear() => _pages.Clear();
}
