using System.Runtime.InteropServices;

namespace KhoEmu.Memory;

/// <summary>
/// An anonymous, private, non-reserving host mapping. Linux backs its pages on first touch, so a large guest
/// that touches little memory stays small on the host.
/// </summary>
internal sealed unsafe partial class HostMapping : IDisposable
{
    private const int ProtRead = 1, ProtWrite = 2;
    private const int MapPrivate = 0x02, MapAnonymous = 0x20, MapNoReserve = 0x4000;

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint mmap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int munmap(nint addr, nuint length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int mincore(nint addr, nuint length, byte* vec);

    public byte* Base { get; private set; }
    public ulong Length { get; }

    public HostMapping(ulong length)
    {
        Length = length;
        if (length == 0) return;
        nint p = mmap(0, (nuint)length, ProtRead | ProtWrite, MapPrivate | MapAnonymous | MapNoReserve, -1, 0);
        if (p == -1)
            throw new OutOfMemoryException($"cannot reserve {length >> 20} MiB of host address space (errno {Marshal.GetLastPInvokeError()})");
        Base = (byte*)p;
    }

    /// <summary>Bytes of this mapping that the host has actually backed with memory (mincore).</summary>
    public ulong ResidentBytes()
    {
        if (Base == null) return 0;
        ulong pages = (Length + 4095) / 4096, resident = 0;
        const ulong window = 1 << 20; // pages per mincore call
        var vec = new byte[window];
        fixed (byte* v = vec)
        {
            for (ulong first = 0; first < pages; first += window)
            {
                ulong n = Math.Min(window, pages - first);
                if (mincore((nint)(Base + first * 4096), (nuint)(n * 4096), v) != 0) return 0;
                for (ulong i = 0; i < n; i++) resident += (ulong)(v[i] & 1);
            }
        }
        return resident * 4096;
    }

    /// <summary>Offsets of the pages the host has backed (mincore), in ascending order: every page the guest (or a
    /// loader) touched since the mapping was made. Untouched pages read as zero.</summary>
    public List<ulong> ResidentPageOffsets()
    {
        var pages = new List<ulong>();
        if (Base == null) return pages;
        ulong count = (Length + 4095) / 4096;
        const ulong window = 1 << 20;
        var vec = new byte[window];
        fixed (byte* v = vec)
        {
            for (ulong first = 0; first < count; first += window)
            {
                ulong n = Math.Min(window, count - first);
                if (mincore((nint)(Base + first * 4096), (nuint)(n * 4096), v) != 0)
                    throw new InvalidOperationException($"mincore failed (errno {Marshal.GetLastPInvokeError()})");
                for (ulong i = 0; i < n; i++)
                    if ((v[i] & 1) != 0) pages.Add((first + i) * 4096);
            }
        }
        return pages;
    }

    public void Dispose()
    {
        if (Base != null) munmap((nint)Base, (nuint)Length);
        Base = null;
    }
}
