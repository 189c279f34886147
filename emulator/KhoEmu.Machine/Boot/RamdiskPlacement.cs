using KhoEmu.Memory;

namespace KhoEmu.Machine.Boot;

/// <summary>
/// Chooses where the initrd goes, as QEMU's x86_load_linux does: page aligned and as high as possible, ending below
/// the lower of the end of low RAM (less QEMU's ACPI headroom) and the kernel's initrd_addr_max, inside one RAM
/// range of the memory map and clear of everything the loader placed (kernel, command line, boot structures).
/// </summary>
public static class RamdiskPlacement
{
    /// <summary>Returns the initrd's address; throws <see cref="BootException"/> when it does not fit.</summary>
    /// <param name="maxAddress">The kernel's initrd_addr_max (ulong.MaxValue for none).</param>
    /// <param name="occupied">Ranges [start, end) the initrd must not overlap.</param>
    /// <param name="headroom">Distance of the placement's end below the end of low RAM (see <see cref="BootLayout"/>).</param>
    public static ulong Place(IReadOnlyList<E820Entry> map, ulong size, ulong maxAddress, IReadOnlyList<(ulong Start, ulong End)> occupied,
        ulong headroom = BootLayout.InitrdHeadroom)
    {
        if (size == 0) throw new BootException("initrd is empty");
        ulong lowEnd = 0;
        foreach (var e in map)
            if (e.Type == E820Type.Ram && e.Address < 1UL << 32) lowEnd = Math.Max(lowEnd, Math.Min(e.Address + e.Length, 1UL << 32));
        // QEMU's x86_load_linux: initrd_max = min(initrd_addr_max, below-4G RAM end less the ACPI headroom), and the
        // initrd starts at (initrd_max - size) & ~4095, so initrd_max serves as the (exclusive) end.
        ulong limit = lowEnd > headroom ? lowEnd - headroom : 0;
        limit = Math.Min(limit, maxAddress);

        ulong best = 0;
        bool found = false;
        foreach (var e in map)
        {
            if (e.Type != E820Type.Ram) continue;
            ulong end = Math.Min(e.Address + e.Length, limit);
            // Walk down from the top of this range, stepping below whatever the candidate overlaps.
            while (end > e.Address && end - e.Address >= size)
            {
                ulong start = (end - size) & ~(PhysicalMemory.PageSize - 1);
                if (start < e.Address) break;
                var clash = occupied.Where(o => start < o.End && o.Start < start + size).ToList();
                if (clash.Count == 0)
                {
                    if (!found || start > best) best = start;
                    found = true;
                    break;
                }
                end = clash.Min(o => o.Start);
            }
        }
        if (!found)
            throw new BootException($"initrd of {size} bytes does not fit in RAM below 0x{limit:x} "
                + "(page aligned, clear of the kernel and the boot structures)");
        return best;
    }
}
