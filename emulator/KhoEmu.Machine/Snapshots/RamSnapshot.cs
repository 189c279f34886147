using System.Buffers.Binary;
using KhoEmu.Core.State;
using KhoEmu.Memory;

namespace KhoEmu.Machine.Snapshots;

/// <summary>
/// Guest RAM in a snapshot: the pages the host has backed that are not all zero, in sections <c>ram.0</c>,
/// <c>ram.1</c>, ... of at most <see cref="PagesPerSection"/> pages each (so no section nears the 2 GiB an LZ4 block
/// can hold). A section is: u32 page count n, n u64 guest-physical page addresses (ascending, page-aligned, RAM), then
/// the n pages of 4096 bytes. Every page not listed is zero.
/// </summary>
public static unsafe class RamSnapshot
{
    public const string Prefix = "ram.";
    public const ushort Version = 1;
    public const int PagesPerSection = 16384; // 64 MiB
    private const int Page = (int)PhysicalMemory.PageSize;

    public static List<SnapshotSection> Save(PhysicalMemory memory)
    {
        var pages = new List<ulong>();
        foreach (ulong gpa in memory.ResidentPages())
            if (new ReadOnlySpan<byte>(memory.RamPointer(gpa), Page).ContainsAnyExcept((byte)0)) pages.Add(gpa);
        var sections = new List<SnapshotSection>();
        for (int first = 0, index = 0; first < pages.Count || index == 0; first += PagesPerSection, index++)
        {
            int n = Math.Min(PagesPerSection, pages.Count - first);
            var data = new byte[4 + 8L * n + (long)Page * n];
            BinaryPrimitives.WriteUInt32LittleEndian(data, (uint)n);
            for (int i = 0; i < n; i++)
            {
                ulong gpa = pages[first + i];
                BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(4 + 8 * i), gpa);
                new ReadOnlySpan<byte>(memory.RamPointer(gpa), Page).CopyTo(data.AsSpan(4 + 8 * n + Page * i, Page));
            }
            sections.Add(new($"{Prefix}{index}", Version, data));
            if (n == 0) break;
        }
        return sections;
    }

    /// <summary>Checks every RAM section against <paramref name="memory"/>'s layout without writing anything.</summary>
    public static void Validate(IEnumerable<SnapshotSection> sections, PhysicalMemory memory)
    {
        ulong previous = 0;
        bool any = false;
        int expected = 0;
        foreach (var s in sections)
        {
            if (s.Name != $"{Prefix}{expected}") throw new SnapshotFormatException($"RAM section {s.Name} out of order (expected {Prefix}{expected})");
            expected++;
            if (s.Version != Version) throw new SnapshotFormatException($"section {s.Name}: version {s.Version}; this khoemu reads version {Version}");
            if (s.Data.Length < 4) throw new SnapshotFormatException($"section {s.Name}: truncated");
            uint n = BinaryPrimitives.ReadUInt32LittleEndian(s.Data);
            if (n > PagesPerSection || s.Data.Length != 4 + 8L * n + (long)Page * n)
                throw new SnapshotFormatException($"section {s.Name}: {s.Data.Length} bytes do not hold {n} pages");
            for (int i = 0; i < n; i++)
            {
                ulong gpa = BinaryPrimitives.ReadUInt64LittleEndian(s.Data.AsSpan(4 + 8 * i));
                if ((gpa & (PhysicalMemory.PageSize - 1)) != 0 || memory.RamPointer(gpa) == null)
                    throw new SnapshotFormatException($"section {s.Name}: page 0x{gpa:x} is not a RAM page of this machine");
                if (any && gpa <= previous) throw new SnapshotFormatException($"section {s.Name}: page 0x{gpa:x} out of order");
                previous = gpa;
                any = true;
            }
        }
        if (expected == 0) throw new SnapshotFormatException("the snapshot has no RAM section");
    }

    /// <summary>Makes RAM exactly the snapshot's: every listed page copied, every other resident page zeroed.</summary>
    public static void Apply(IEnumerable<SnapshotSection> sections, PhysicalMemory memory)
    {
        var listed = new HashSet<ulong>();
        foreach (var s in sections)
        {
            int n = (int)BinaryPrimitives.ReadUInt32LittleEndian(s.Data);
            for (int i = 0; i < n; i++)
            {
                ulong gpa = BinaryPrimitives.ReadUInt64LittleEndian(s.Data.AsSpan(4 + 8 * i));
                s.Data.AsSpan(4 + 8 * n + Page * i, Page).CopyTo(new Span<byte>(memory.RamPointer(gpa), Page));
                listed.Add(gpa);
            }
        }
        foreach (ulong gpa in memory.ResidentPages())
            if (!listed.Contains(gpa)) new Span<byte>(memory.RamPointer(gpa), Page).Clear();
    }

    /// <summary>XxHash64 of all of RAM (a zero page and an untouched page hash alike), for comparing two machines.</summary>
    public static ulong Hash(PhysicalMemory memory)
    {
        var hash = new System.IO.Hashing.XxHash64();
        Span<byte> gpaBytes = stackalloc byte[8];
        foreach (ulong gpa in memory.ResidentPages())
        {
            var page = new ReadOnlySpan<byte>(memory.RamPointer(gpa), Page);
            if (!page.ContainsAnyExcept((byte)0)) continue;
            BinaryPrimitives.WriteUInt64LittleEndian(gpaBytes, gpa);
            hash.Append(gpaBytes);
            hash.Append(page);
        }
        return hash.GetCurrentHashAsUInt64();
    }
}
