using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using K4os.Compression.LZ4;
using KhoEmu.Core.State;

namespace KhoEmu.Machine.Snapshots;

/// <summary>
/// A snapshot file: magic, format version, header (the machine it belongs to and the section table), the sections'
/// bytes (each LZ4-compressed), and an XxHash64 of everything before it. The layout is in docs/snapshots.md.
/// <see cref="Read"/> checks all of it (magic, version, length, checksum, header, table, every section decompresses to
/// its length) before returning, and throws <see cref="SnapshotFormatException"/> with a one-line reason otherwise.
/// </summary>
public sealed class SnapshotFile
{
    /// <summary>"KHOSNAP" and a NUL, as a little-endian u64 read from the first 8 bytes.</summary>
    public static ReadOnlySpan<byte> Magic => "KHOSNAP\0"u8;
    /// <summary>Bumped when the container changes (this layout, the header, the table, the codecs); a section's own
    /// encoding has its own version in the table.</summary>
    public const uint FormatVersion = 1;
    /// <summary>Magic (8), format version (4), header length (4), file length (8).</summary>
    public const int PrefixLength = 24;
    public const int ChecksumLength = 8;
    /// <summary>A sanity bound on the header (the section table of a 64 GiB machine is far below it).</summary>
    private const int MaxHeaderLength = 64 << 20;

    private readonly List<SnapshotSection> _sections;
    private readonly List<SnapshotTableEntry> _table;

    public SnapshotFile(SnapshotHeader header, IEnumerable<SnapshotSection> sections)
    {
        Header = header;
        _sections = [.. sections];
        _table = [];
        var names = new HashSet<string>();
        foreach (var s in _sections)
            if (!names.Add(s.Name)) throw new ArgumentException($"snapshot section {s.Name} appears twice");
    }

    private SnapshotFile(SnapshotHeader header, List<SnapshotSection> sections, List<SnapshotTableEntry> table)
    {
        Header = header;
        _sections = sections;
        _table = table;
    }

    public SnapshotHeader Header { get; }
    public IReadOnlyList<SnapshotSection> Sections => _sections;
    /// <summary>How each section was stored (filled for a file that was read or written).</summary>
    public IReadOnlyList<SnapshotTableEntry> Table => _table;

    public SnapshotSection? Find(string name) => _sections.FirstOrDefault(s => s.Name == name);

    /// <summary>Writes the file to a temporary name beside <paramref name="path"/> and renames it, so a reader never
    /// sees half a snapshot. Returns the file's length.</summary>
    public long Write(string path)
    {
        var stored = new List<(SnapshotCodec Codec, byte[] Bytes, int Length)>(_sections.Count);
        foreach (var s in _sections) stored.Add(Compress(s.Data));
        _table.Clear();
        for (int i = 0; i < _sections.Count; i++)
            _table.Add(new(_sections[i].Name, _sections[i].Version, stored[i].Codec, (ulong)_sections[i].Data.Length, (ulong)stored[i].Length));
        byte[] header = EncodeHeader();
        long total = PrefixLength + header.Length + stored.Sum(s => (long)s.Length) + ChecksumLength;

        string temp = path + ".tmp";
        var hash = new XxHash64();
        using (var f = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            Span<byte> prefix = stackalloc byte[PrefixLength];
            Magic.CopyTo(prefix);
            BinaryPrimitives.WriteUInt32LittleEndian(prefix[8..], FormatVersion);
            BinaryPrimitives.WriteUInt32LittleEndian(prefix[12..], (uint)header.Length);
            BinaryPrimitives.WriteUInt64LittleEndian(prefix[16..], (ulong)total);
            void Put(ReadOnlySpan<byte> bytes)
            {
                hash.Append(bytes);
                f.Write(bytes);
            }
            Put(prefix);
            Put(header);
            foreach (var s in stored) Put(s.Bytes.AsSpan(0, s.Length));
            Span<byte> sum = stackalloc byte[ChecksumLength];
            BinaryPrimitives.WriteUInt64LittleEndian(sum, hash.GetCurrentHashAsUInt64());
            f.Write(sum);
        }
        File.Move(temp, path, overwrite: true);
        return total;
    }

    private static (SnapshotCodec, byte[], int) Compress(byte[] data)
    {
        if (data.Length == 0) return (SnapshotCodec.Stored, data, 0);
        var target = new byte[LZ4Codec.MaximumOutputSize(data.Length)];
        int n = LZ4Codec.Encode(data, target, LZ4Level.L00_FAST);
        return n > 0 && n < data.Length ? (SnapshotCodec.Lz4, target, n) : (SnapshotCodec.Stored, data, data.Length);
    }

    private byte[] EncodeHeader()
    {
        var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            var h = Header;
            var m = h.Machine;
            w.Write(h.Producer);
            w.Write(h.Reason);
            w.Write(h.InstructionCount);
            w.Write(h.VirtualTime);
            w.Write(m.RamSize);
            w.Write(m.CpuModel);
            w.Write((ushort)m.Sockets);
            w.Write((ushort)m.Cores);
            w.Write((ushort)m.Threads);
            w.Write((ushort)m.Devices.Length);
            foreach (var d in m.Devices) w.Write(d);
            w.Write(m.ConfigHash);
            w.Write((uint)_table.Count);
            foreach (var e in _table)
            {
                w.Write(e.Name);
                w.Write(e.Version);
                w.Write((byte)e.Codec);
                w.Write(e.RawLength);
                w.Write(e.StoredLength);
            }
        }
        return ms.ToArray();
    }

    /// <summary>Reads and checks a whole snapshot file (see the class summary); the file is not kept open.</summary>
    /// <exception cref="SnapshotFormatException">The file is not a valid snapshot of this format version.</exception>
    public static SnapshotFile Read(string path)
    {
        try
        {
            using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            return Read(f);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SnapshotFormatException($"cannot read: {e.Message}");
        }
    }

    /// <summary>Reads and checks a snapshot from a seekable stream.</summary>
    public static SnapshotFile Read(Stream f)
    {
        long length = f.Length;
        if (length < PrefixLength + ChecksumLength)
            throw new SnapshotFormatException($"truncated: {length} bytes, a snapshot has at least {PrefixLength + ChecksumLength}");
        Span<byte> prefix = stackalloc byte[PrefixLength];
        f.Position = 0;
        f.ReadExactly(prefix);
        if (!prefix[..8].SequenceEqual(Magic)) throw new SnapshotFormatException("not a KhoEmu snapshot (bad magic)");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(prefix[8..]);
        if (version != FormatVersion)
            throw new SnapshotFormatException($"snapshot format version {version}; this khoemu reads version {FormatVersion}");
        uint headerLength = BinaryPrimitives.ReadUInt32LittleEndian(prefix[12..]);
        ulong declared = BinaryPrimitives.ReadUInt64LittleEndian(prefix[16..]);
        if ((ulong)length < declared) throw new SnapshotFormatException($"truncated: {length} of {declared} bytes");
        if ((ulong)length > declared) throw new SnapshotFormatException($"{length - (long)declared} bytes after the snapshot's end ({declared} bytes)");
        if (headerLength > MaxHeaderLength || PrefixLength + (long)headerLength + ChecksumLength > length)
            throw new SnapshotFormatException($"header length {headerLength} does not fit in the {length}-byte file");

        // The checksum covers every byte before it; nothing past the prefix is interpreted before it matches.
        var hash = new XxHash64();
        hash.Append(prefix);
        var buffer = new byte[1 << 20];
        long left = length - PrefixLength - ChecksumLength;
        while (left > 0)
        {
            int n = f.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
            if (n <= 0) throw new SnapshotFormatException("truncated while reading");
            hash.Append(buffer.AsSpan(0, n));
            left -= n;
        }
        Span<byte> sum = stackalloc byte[ChecksumLength];
        f.ReadExactly(sum);
        if (BinaryPrimitives.ReadUInt64LittleEndian(sum) != hash.GetCurrentHashAsUInt64())
            throw new SnapshotFormatException("checksum mismatch: the file is corrupted");

        f.Position = PrefixLength;
        var headerBytes = new byte[headerLength];
        f.ReadExactly(headerBytes);
        var (header, table) = DecodeHeader(headerBytes);
        ulong body = (ulong)(length - PrefixLength - headerLength - ChecksumLength), sumStored = 0;
        foreach (var e in table)
        {
            if (e.StoredLength > body || e.RawLength > int.MaxValue || e.StoredLength > int.MaxValue)
                throw new SnapshotFormatException($"section {e.Name}: length {e.RawLength}/{e.StoredLength} does not fit in the file");
            sumStored += e.StoredLength;
        }
        if (sumStored != body) throw new SnapshotFormatException($"the section table covers {sumStored} bytes, the file holds {body}");

        var sections = new List<SnapshotSection>(table.Count);
        foreach (var e in table)
        {
            var stored = new byte[e.StoredLength];
            f.ReadExactly(stored);
            sections.Add(new(e.Name, e.Version, Decompress(e, stored)));
        }
        return new SnapshotFile(header, sections, table);
    }

    private static byte[] Decompress(SnapshotTableEntry e, byte[] stored)
    {
        switch (e.Codec)
        {
            case SnapshotCodec.Stored:
                if (e.RawLength != e.StoredLength) throw new SnapshotFormatException($"section {e.Name}: stored length differs from its length");
                return stored;
            case SnapshotCodec.Lz4:
                var raw = new byte[e.RawLength];
                int n = LZ4Codec.Decode(stored, raw);
                if (n != raw.Length) throw new SnapshotFormatException($"section {e.Name}: does not decompress to its {e.RawLength} bytes");
                return raw;
            default:
                throw new SnapshotFormatException($"section {e.Name}: unknown codec {(byte)e.Codec}");
        }
    }

    private static (SnapshotHeader, List<SnapshotTableEntry>) DecodeHeader(byte[] bytes)
    {
        try
        {
            using var r = new BinaryReader(new MemoryStream(bytes), Encoding.UTF8);
            string producer = r.ReadString(), reason = r.ReadString();
            ulong instructions = r.ReadUInt64(), time = r.ReadUInt64(), ram = r.ReadUInt64();
            string cpu = r.ReadString();
            int sockets = r.ReadUInt16(), cores = r.ReadUInt16(), threads = r.ReadUInt16();
            var devices = new string[r.ReadUInt16()];
            for (int i = 0; i < devices.Length; i++) devices[i] = r.ReadString();
            ulong configHash = r.ReadUInt64();
            uint count = r.ReadUInt32();
            if (count > bytes.Length) throw new SnapshotFormatException($"section table claims {count} sections");
            var table = new List<SnapshotTableEntry>((int)count);
            var names = new HashSet<string>();
            for (uint i = 0; i < count; i++)
            {
                var e = new SnapshotTableEntry(r.ReadString(), r.ReadUInt16(), (SnapshotCodec)r.ReadByte(), r.ReadUInt64(), r.ReadUInt64());
                if (!names.Add(e.Name)) throw new SnapshotFormatException($"section {e.Name} appears twice in the table");
                table.Add(e);
            }
            if (r.BaseStream.Position != bytes.Length) throw new SnapshotFormatException("the header has bytes after its section table");
            var machine = new SnapshotMachine(ram, cpu, sockets, cores, threads, devices, configHash);
            return (new SnapshotHeader(producer, reason, instructions, time, machine), table);
        }
        catch (Exception e) when (e is EndOfStreamException or FormatException or ArgumentException)
        {
            throw new SnapshotFormatException($"header is malformed: {e.Message}");
        }
    }
}
