namespace KhoEmu.Core;

/// <summary>
/// Guest-physical ranges that belong to devices. Regions are kept sorted; overlapping registrations are refused.
/// Unclaimed addresses read as all ones and ignore writes.
/// </summary>
public sealed class MmioBus
{
    private sealed record Region(ulong Base, ulong Size, IMmioDevice Device, string Name);

    private Region[] _regions = [];

    public void Register(ulong baseAddress, ulong size, IMmioDevice device, string name)
    {
        if (size == 0 || baseAddress + size < baseAddress)
            throw new ArgumentOutOfRangeException(nameof(size), $"MMIO range for {name} is empty or wraps");
        foreach (var r in _regions)
        {
            if (baseAddress < r.Base + r.Size && r.Base < baseAddress + size)
                throw new BusConflictException(
                    $"MMIO 0x{baseAddress:x}+0x{size:x} of {name} overlaps {r.Name} at 0x{r.Base:x}+0x{r.Size:x}");
        }
        _regions = [.. _regions.Append(new Region(baseAddress, size, device, name)).OrderBy(r => r.Base)];
    }

    /// <summary>Removes the region starting at <paramref name="baseAddress"/> (PCI BAR moves use this).</summary>
    public bool Unregister(ulong baseAddress)
    {
        int before = _regions.Length;
        _regions = [.. _regions.Where(r => r.Base != baseAddress)];
        return _regions.Length != before;
    }

    public IEnumerable<(ulong Base, ulong Size, string Name)> Regions => _regions.Select(r => (r.Base, r.Size, r.Name));

    public bool IsClaimed(ulong address) => Find(address) is not null;

    /// <summary>Runs before every device access (see <see cref="PortBus.BeforeAccess"/>).</summary>
    public Action? BeforeAccess { get; set; }

    private Region? Find(ulong address)
    {
        var regions = _regions;
        int lo = 0, hi = regions.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >> 1;
            var r = regions[mid];
            if (address < r.Base) hi = mid - 1;
            else if (address - r.Base >= r.Size) lo = mid + 1;
            else return r;
        }
        return null;
    }

    public ulong Read(ulong address, int size)
    {
        var r = Find(address);
        if (r is null) return size >= 8 ? ulong.MaxValue : (1UL << (size * 8)) - 1;
        BeforeAccess?.Invoke();
        return r.Device.ReadMmio(address - r.Base, size);
    }

    public void Write(ulong address, int size, ulong value)
    {
        var r = Find(address);
        if (r is null) return;
        BeforeAccess?.Invoke();
        r.Device.WriteMmio(address - r.Base, size, value);
    }
}
