namespace KhoEmu.Memory;

/// <summary>
/// Physical RAM pages a host-side checker watches (the KHO oracle after a kexec jump). Two per-page bitmaps: an
/// access watch (any CPU read or write of the page reaches <see cref="Sink"/>) and a write watch (writes only). A
/// watched page never gets a host pointer or a write permission in the CPU's TLB, so its accesses take the slow path,
/// which is the only place the bitmaps are consulted; unwatched pages keep the fast path. Nothing is watched until
/// <see cref="Start"/>, so the cost when unused is one field test on the slow path.
/// </summary>
public sealed class PageWatch
{
    private ulong[] _access = [];
    private ulong[] _write = [];

    /// <summary>True while any page may be watched.</summary>
    public bool Active { get; private set; }

    /// <summary>Told about a watched access before it happens: physical address, size, true for a write.</summary>
    public Action<ulong, int, bool>? Sink { get; set; }

    /// <summary>Raised when pages become watched, so cached translations that bypass the watch are dropped.</summary>
    public event Action? Armed;

    /// <summary>Starts watching (empty bitmaps for page numbers below <paramref name="pageLimit"/>).</summary>
    public void Start(ulong pageLimit)
    {
        int words = (int)((pageLimit + 63) / 64);
        _access = new ulong[words];
        _write = new ulong[words];
        Active = true;
    }

    /// <summary>Stops watching every page.</summary>
    public void Stop()
    {
        Active = false;
        _access = [];
        _write = [];
    }

    /// <summary>Call after adding pages: drops cached fast-path translations.</summary>
    public void Arm() => Armed?.Invoke();

    public void WatchAccess(ulong page) => Set(_access, page, true);
    public void WatchWrites(ulong page) => Set(_write, page, true);
    public void UnwatchAccess(ulong page) => Set(_access, page, false);
    public void UnwatchWrites(ulong page) => Set(_write, page, false);

    /// <summary>Marks or clears the write watch of pages [first, end).</summary>
    public void WatchWrites(ulong first, ulong end, bool on)
    {
        for (ulong p = first; p < end && p / 64 < (ulong)_write.Length; p++)
        {
            if ((p & 63) == 0 && end - p >= 64) { _write[p / 64] = on ? ulong.MaxValue : 0; p += 63; continue; }
            Set(_write, p, on);
        }
    }

    public bool IsAccessWatched(ulong page) => Get(_access, page);
    public bool IsWriteWatched(ulong page) => Get(_write, page);

    /// <summary>True when any access to the page must take the slow path (no host pointer in the TLB).</summary>
    public bool BlocksFastRead(ulong page) => Active && Get(_access, page);

    /// <summary>True when writes to the page must take the slow path.</summary>
    public bool BlocksFastWrite(ulong page) => Active && (Get(_access, page) || Get(_write, page));

    /// <summary>The slow path's check: reports the access when its page is watched for that kind of access.</summary>
    public void Check(ulong gpa, int size, bool write)
    {
        ulong page = gpa >> 12;
        if (Get(_access, page) || (write && Get(_write, page))) Sink?.Invoke(gpa, size, write);
    }

    private static bool Get(ulong[] bits, ulong page) => page / 64 < (ulong)bits.Length && (bits[page / 64] & (1UL << (int)(page & 63))) != 0;

    private static void Set(ulong[] bits, ulong page, bool on)
    {
        if (page / 64 >= (ulong)bits.Length) return;
        if (on) bits[page / 64] |= 1UL << (int)(page & 63);
        else bits[page / 64] &= ~(1UL << (int)(page & 63));
    }
}
