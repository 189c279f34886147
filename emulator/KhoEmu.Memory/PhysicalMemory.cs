using KhoEmu.Core;

namespace KhoEmu.Memory;

/// <summary>
/// Guest-physical address space: RAM from 0 up to 2 GiB, the rest of RAM from 4 GiB (the PCI hole lies between),
/// a read-only firmware ROM ending at 4 GiB, and MMIO devices. RAM is one sparse host mapping; everything else is
/// reached through <see cref="Mmio"/>.
/// </summary>
public sealed unsafe class PhysicalMemory : IGuestMemory, IDisposable
{
    public const ulong LowMemoryLimit = 2UL << 30;
    public const ulong HighMemoryBase = 4UL << 30;
    public const ulong PageSize = 4096;

    private readonly HostMapping _ram;
    private byte[] _rom = [];
    private ulong _romBase = HighMemoryBase;
    private readonly CodePageSet _codePages = new();

    public PhysicalMemory(ulong ramSize)
    {
        if (ramSize < (1 << 20)) throw new ArgumentOutOfRangeException(nameof(ramSize), "RAM must be at least 1 MiB");
        RamSize = ramSize & ~(PageSize - 1);
        LowRamSize = Math.Min(RamSize, LowMemoryLimit);
        HighRamSize = RamSize - LowRamSize;
        _ram = new HostMapping(RamSize);
    }

    public ulong RamSize { get; }
    public ulong LowRamSize { get; }
    public ulong HighRamSize { get; }
    public MmioBus Mmio { get; } = new();

    /// <summary>Pages that hold decoded guest code; writes to them must reach <see cref="CodeWritten"/>.</summary>
    public CodePageSet CodePages => _codePages;

    /// <summary>Pages a host-side checker watches (see <see cref="PageWatch"/>); consulted on the slow paths only.</summary>
    public PageWatch Watch { get; } = new();

    /// <summary>Raised with the physical page number when a write lands in a page that holds decoded code.</summary>
    public event Action<ulong>? CodeWritten;

    /// <summary>Raised when a page becomes a code page: every processor must drop its fast write translations, or a
    /// write through one of them (from any processor) would miss <see cref="CodeWritten"/>.</summary>
    public event Action? CodePageMarked;

    /// <summary>Adds <paramref name="page"/> to <see cref="CodePages"/>; raises <see cref="CodePageMarked"/> when it is new.</summary>
    public bool MarkCodePage(ulong page)
    {
        if (!_codePages.Add(page)) return false;
        CodePageMarked?.Invoke();
        return true;
    }

    /// <summary>Host bytes actually backing guest RAM right now.</summary>
    public ulong ResidentBytes => _ram.ResidentBytes();

    /// <summary>Guest-physical addresses of the RAM pages the host has backed, ascending (a snapshot saves these; every
    /// other RAM page is zero).</summary>
    public List<ulong> ResidentPages()
    {
        var pages = _ram.ResidentPageOffsets();
        for (int i = 0; i < pages.Count; i++)
            if (pages[i] >= LowRamSize) pages[i] = pages[i] - LowRamSize + HighMemoryBase;
        return pages;
    }

    /// <summary>Maps a firmware image so that it ends exactly at 4 GiB (the reset vector lives in its last 16 bytes).</summary>
    public void LoadRom(byte[] image)
    {
        if (image.Length == 0 || image.Length % 4096 != 0 || image.Length > (16 << 20))
            throw new ArgumentException("firmware ROM must be a non-empty multiple of 4 KiB, at most 16 MiB");
        _rom = (byte[])image.Clone();
        _romBase = HighMemoryBase - (ulong)image.Length;
    }

    public ulong RomBase => _romBase;

    /// <summary>Translates a guest-physical address to a host pointer into RAM, or null when it is not RAM.</summary>
    public byte* RamPointer(ulong gpa)
    {
        if (gpa < LowRamSize) return _ram.Base + gpa;
        ulong high = gpa - HighMemoryBase;
        if (gpa >= HighMemoryBase && high < HighRamSize) return _ram.Base + LowRamSize + high;
        return null;
    }

    /// <summary>True when <paramref name="gpa"/> is in the firmware ROM.</summary>
    public bool IsRom(ulong gpa) => gpa >= _romBase && gpa < HighMemoryBase && _rom.Length > 0;

    private readonly List<(ulong Address, ulong Length, E820Type? Type)> _holes = [];

    /// <summary>
    /// Takes [<paramref name="address"/>, +<paramref name="length"/>) out of the RAM the memory map offers the OS and
    /// lists it with <paramref name="type"/>, or not at all when <paramref name="type"/> is null (a legacy hole). The
    /// bytes stay addressable RAM; only the map changes. The board decides the holes (Q35Layout).
    /// </summary>
    public void Reserve(ulong address, ulong length, E820Type? type)
    {
        if (length == 0 || address + length < address) throw new ArgumentOutOfRangeException(nameof(length), "reserved range is empty or wraps");
        _holes.Add((address, length, type));
    }

    /// <summary>The machine's memory map, sorted: RAM minus the reserved ranges, the reserved ranges, the ROM.</summary>
    public IReadOnlyList<E820Entry> MemoryMap()
    {
        var ram = new List<(ulong Start, ulong End)> { (0, LowRamSize) };
        if (HighRamSize > 0) ram.Add((HighMemoryBase, HighMemoryBase + HighRamSize));
        foreach (var (address, length, _) in _holes)
        {
            ulong end = address + length;
            ram = [.. ram.SelectMany(r => end <= r.Start || address >= r.End
                ? [r]
                : new[] { (r.Start, Math.Min(r.End, address)), (Math.Max(r.Start, end), r.End) }.Where(p => p.Item2 > p.Item1))];
        }
        var map = ram.Select(r => new E820Entry(r.Start, r.End - r.Start, E820Type.Ram)).ToList();
        foreach (var (address, length, type) in _holes)
            if (type is { } t) map.Add(new(address, length, t));
        if (_rom.Length > 0) map.Add(new(_romBase, (ulong)_rom.Length, E820Type.Reserved));
        return [.. map.OrderBy(e => e.Address)];
    }

    /// <summary>Reads a naturally sized value of 1, 2, 4 or 8 bytes from any physical address (slow path).</summary>
    public ulong ReadPhys(ulong gpa, int size)
    {
        byte* p = RamPointer(gpa);
        if (p != null && RamPointer(gpa + (ulong)size - 1) == p + size - 1)
        {
            if (Watch.Active) Watch.Check(gpa, size, write: false);
            return Load(p, size);
        }
        if (IsRom(gpa))
        {
            ulong v = 0;
            for (int i = 0; i < size; i++)
                v |= (ulong)RomByte(gpa + (ulong)i) << (8 * i);
            return v;
        }
        if (p != null)
        {
            ulong v = 0;
            for (int i = 0; i < size; i++) v |= ReadPhys(gpa + (ulong)i, 1) << (8 * i);
            return v;
        }
        return Mmio.Read(gpa, size);
    }

    /// <summary>Writes a value of 1, 2, 4 or 8 bytes to any physical address (slow path, tracks code pages).</summary>
    public void WritePhys(ulong gpa, int size, ulong value)
    {
        byte* p = RamPointer(gpa);
        if (p != null && RamPointer(gpa + (ulong)size - 1) == p + size - 1)
        {
            if (Watch.Active) Watch.Check(gpa, size, write: true);
            NoteWrite(gpa, (ulong)size);
            Store(p, size, value);
            return;
        }
        if (p != null)
        {
            for (int i = 0; i < size; i++) WritePhys(gpa + (ulong)i, 1, value >> (8 * i));
            return;
        }
        if (IsRom(gpa)) return; // ROM ignores writes
        Mmio.Write(gpa, size, value);
    }

    private byte RomByte(ulong gpa) => _rom[gpa - _romBase];

    /// <summary>Calls <see cref="CodeWritten"/> for each code page in [gpa, gpa+length).</summary>
    public void NoteWrite(ulong gpa, ulong length)
    {
        if (_codePages.Count == 0 || length == 0) return;
        for (ulong page = gpa >> 12; page <= (gpa + length - 1) >> 12; page++)
            if (_codePages.Contains(page)) CodeWritten?.Invoke(page);
    }

    private static ulong Load(byte* p, int size) => size switch
    {
        1 => *p,
        2 => *(ushort*)p,
        4 => *(uint*)p,
        _ => *(ulong*)p,
    };

    private static void Store(byte* p, int size, ulong v)
    {
        switch (size)
        {
            case 1: *p = (byte)v; break;
            case 2: *(ushort*)p = (ushort)v; break;
            case 4: *(uint*)p = (uint)v; break;
            default: *(ulong*)p = v; break;
        }
    }

    /// <summary>Bulk read for loaders and DMA: RAM and ROM only; returns false (and reads nothing) otherwise.</summary>
    public bool Read(ulong address, Span<byte> destination)
    {
        if (!IsBacked(address, (ulong)destination.Length)) return false;
        for (int i = 0; i < destination.Length;)
        {
            ulong a = address + (ulong)i;
            int chunk = (int)Math.Min((ulong)(destination.Length - i), PageSize - (a & (PageSize - 1)));
            byte* p = RamPointer(a);
            if (p != null) new Span<byte>(p, chunk).CopyTo(destination.Slice(i, chunk));
            else _rom.AsSpan((int)(a - _romBase), chunk).CopyTo(destination.Slice(i, chunk));
            i += chunk;
        }
        return true;
    }

    /// <summary>Bulk write for loaders and DMA: RAM only; returns false (and writes nothing) otherwise.</summary>
    public bool Write(ulong address, ReadOnlySpan<byte> source)
    {
        ulong len = (ulong)source.Length;
        if (len == 0) return true;
        for (ulong off = 0; off < len; off += PageSize - ((address + off) & (PageSize - 1)))
            if (RamPointer(address + off) == null) return false;
        if (RamPointer(address + len - 1) == null) return false;
        NoteWrite(address, len);
        for (int i = 0; i < source.Length;)
        {
            ulong a = address + (ulong)i;
            int chunk = (int)Math.Min((ulong)(source.Length - i), PageSize - (a & (PageSize - 1)));
            source.Slice(i, chunk).CopyTo(new Span<byte>(RamPointer(a), chunk));
            i += chunk;
        }
        return true;
    }

    private bool IsBacked(ulong address, ulong length)
    {
        if (length == 0) return true;
        if (address + length < address) return false;
        for (ulong off = 0; off < length; off += PageSize - ((address + off) & (PageSize - 1)))
            if (RamPointer(address + off) == null && !IsRom(address + off)) return false;
        ulong last = address + length - 1;
        return RamPointer(last) != null || IsRom(last);
    }

    public void Dispose() => _ram.Dispose();
}
