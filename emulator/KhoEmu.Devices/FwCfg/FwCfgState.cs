using MemoryPack;

namespace KhoEmu.Devices.FwCfg;

/// <summary>fw_cfg: the selected item, the read offset and the DMA address register (high half written, low half
/// pending). The items are configuration the machine rebuilds; <see cref="ItemsHash"/> (SHA-256 over every item's key,
/// length and bytes, the file directory among them) proves the restoring machine serves the same ones.</summary>
[MemoryPackable]
public sealed partial record FwCfgState(ushort Selector, ulong Offset, ulong DmaAddress, byte[] ItemsHash);
