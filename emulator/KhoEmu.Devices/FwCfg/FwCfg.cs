using System.Buffers.Binary;
using System.Text;
using KhoEmu.Core;

namespace KhoEmu.Devices.FwCfg;

/// <summary>
/// QEMU's firmware configuration device (docs/specs/fw_cfg.rst): selector at +0 (16-bit), data at +1 (byte reads
/// advance), DMA address at +4 (64-bit big endian; writing the low half starts the transfer). Items are byte arrays;
/// named files are listed in the directory item 0x19.
/// </summary>
public sealed partial class FwCfg : IPortDevice
{
    private const uint DmaError = 1, DmaRead = 2, DmaSkip = 4, DmaSelect = 8, DmaWrite = 16;

    private readonly Dictionary<ushort, byte[]> _items = [];
    private readonly List<(string Name, ushort Key)> _files = [];
    private readonly IGuestMemory _memory;
    private ushort _selector;
    private ulong _offset;     // may run past the item: reads there return zeros, as QEMU
    private ulong _dmaAddress;

    public FwCfg(IGuestMemory memory)
    {
        _memory = memory;
        _items[FwCfgKeys.Signature] = "QEMU"u8.ToArray();
        _items[FwCfgKeys.Id] = [3, 0, 0, 0]; // traditional interface + DMA
        RebuildDirectory();
    }

    public void SetItem(ushort key, byte[] data) => _items[key] = data;

    public void SetU32(ushort key, uint value)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        _items[key] = b;
    }

    public void SetU64(ushort key, ulong value)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        _items[key] = b;
    }

    /// <summary>Adds a named file (e.g. "opt/khoemu/init"); names are at most 55 bytes.</summary>
    public void AddFile(string name, byte[] data)
    {
        if (Encoding.ASCII.GetByteCount(name) > 55) throw new ArgumentException($"fw_cfg file name too long: {name}");
        if (_files.Any(f => f.Name == name)) throw new ArgumentException($"fw_cfg file {name} given twice");
        ushort key = (ushort)(FwCfgKeys.FileFirst + _files.Count);
        _items[key] = data;
        _files.Add((name, key));
        RebuildDirectory();
    }

    public IReadOnlyList<string> FileNames => _files.Select(f => f.Name).ToList();

    private void RebuildDirectory()
    {
        var sorted = _files.OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
        var dir = new byte[4 + 64 * sorted.Count];
        BinaryPrimitives.WriteUInt32BigEndian(dir, (uint)sorted.Count);
        for (int i = 0; i < sorted.Count; i++)
        {
            var e = dir.AsSpan(4 + 64 * i, 64);
            BinaryPrimitives.WriteUInt32BigEndian(e, (uint)_items[sorted[i].Key].Length);
            BinaryPrimitives.WriteUInt16BigEndian(e[4..], sorted[i].Key);
            Encoding.ASCII.GetBytes(sorted[i].Name, e[8..]);
        }
        _items[FwCfgKeys.FileDir] = dir;
    }

    private byte[] Current => _items.TryGetValue(_selector, out var d) ? d : [];

    public uint ReadPort(ushort offset, int size)
    {
        if (offset == 1)
        {
            uint v = 0;
            for (int i = 0; i < size; i++)
            {
                var d = Current;
                v |= (uint)(_offset < (ulong)d.Length ? d[_offset] : 0) << (8 * i);
                if (_offset < (ulong)d.Length) _offset++;
            }
            return v;
        }
        if (offset >= 4 && offset < 12)
        {
            // The DMA register reads as the "QEMU CFG" signature.
            ulong sig = BinaryPrimitives.ReadUInt64BigEndian("QEMU CFG"u8);
            int shift = (8 - (offset - 4) - size) * 8;
            return (uint)((sig >> shift) & (size == 4 ? 0xFFFF_FFFFUL : size == 2 ? 0xFFFFUL : 0xFFUL));
        }
        return 0;
    }

    public void WritePort(ushort offset, int size, uint value)
    {
        switch (offset)
        {
            case 0:
                _selector = (ushort)value;
                _offset = 0;
                break;
            case 4 when size == 4:
                _dmaAddress = (_dmaAddress & 0xFFFF_FFFF) | ((ulong)BinaryPrimitives.ReverseEndianness(value) << 32);
                break;
            case 8 when size == 4:
                _dmaAddress = (_dmaAddress & ~0xFFFF_FFFFUL) | BinaryPrimitives.ReverseEndianness(value);
                RunDma(_dmaAddress);
                _dmaAddress = 0;
                break;
        }
    }

    /// <summary>Executes one DMA descriptor {be32 control; be32 length; be64 address} at <paramref name="descriptor"/>.</summary>
    private void RunDma(ulong descriptor)
    {
        Span<byte> desc = stackalloc byte[16];
        if (!_memory.Read(descriptor, desc)) return;
        uint control = BinaryPrimitives.ReadUInt32BigEndian(desc);
        uint length = BinaryPrimitives.ReadUInt32BigEndian(desc[4..]);
        ulong address = BinaryPrimitives.ReadUInt64BigEndian(desc[8..]);
        if ((control & DmaSelect) != 0)
        {
            _selector = (ushort)(control >> 16);
            _offset = 0;
        }
        bool ok = true;
        var data = Current;
        if ((control & DmaRead) != 0)
        {
            // The item's bytes, then zeros past its end, written in bounded pieces: a guest asking for 4 GiB gets
            // them without the host allocating 4 GiB.
            Span<byte> zeros = stackalloc byte[4096];
            zeros.Clear();
            for (ulong done = 0; done < length && ok; )
            {
                ulong pos = _offset + done;
                int piece;
                if (pos < (ulong)data.Length)
                {
                    piece = (int)Math.Min((ulong)data.Length - pos, length - done);
                    ok = _memory.Write(address + done, data.AsSpan((int)pos, piece));
                }
                else
                {
                    piece = (int)Math.Min((ulong)zeros.Length, length - done);
                    ok = _memory.Write(address + done, zeros[..piece]);
                }
                done += (ulong)piece;
            }
            _offset = Math.Min(_offset + length, (ulong)data.Length);
        }
        else if ((control & DmaSkip) != 0) _offset = Math.Min(_offset + length, (ulong)data.Length);
        else if ((control & DmaWrite) != 0) ok = false; // items are read-only
        Span<byte> status = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(status, ok ? 0 : DmaError);
        _memory.Write(descriptor, status);
    }
}
