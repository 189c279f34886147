using MemoryPack;

namespace KhoEmu.Devices.Chipset;

/// <summary>RST_CNT's kept bits (SYS_RST, FULL_RST).</summary>
[MemoryPackable]
public sealed partial record ResetControlState(byte Value);
