using System.Buffers.Binary;
using System.Security.Cryptography;
using KhoEmu.Core.State;
using KhoEmu.Devices.State;

namespace KhoEmu.Devices.FwCfg;

public sealed partial class FwCfg : IStateful<FwCfgState>
{
    /// <summary>SHA-256 over the items in key order: u16 key, u32 length, bytes.</summary>
    private byte[] ItemsHash()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> head = stackalloc byte[6];
        foreach (var (key, data) in _items.OrderBy(i => i.Key))
        {
            BinaryPrimitives.WriteUInt16LittleEndian(head, key);
            BinaryPrimitives.WriteInt32LittleEndian(head[2..], data.Length);
            hash.AppendData(head);
            hash.AppendData(data);
        }
        return hash.GetHashAndReset();
    }

    public FwCfgState SaveState() => new(_selector, _offset, _dmaAddress, ItemsHash());

    public void ValidateState(FwCfgState s)
    {
        StateCheck.Length("fw_cfg", "items hash", s.ItemsHash, SHA256.HashSizeInBytes);
        StateCheck.That("fw_cfg", s.ItemsHash.AsSpan().SequenceEqual(ItemsHash()),
            "the snapshot's items differ from this machine's (other files, command line, kernel or memory size)");
        // Reads and DMA stop the offset at the item's end.
        ulong length = _items.TryGetValue(s.Selector, out var item) ? (ulong)item.Length : 0;
        StateCheck.Range("fw_cfg", "offset", s.Offset, 0UL, length);
    }

    public void LoadState(FwCfgState s) => (_selector, _offset, _dmaAddress) = (s.Selector, s.Offset, s.DmaAddress);
}
