using MemoryPack;

namespace KhoEmu.Devices.Pci;

/// <summary>A function's 256-byte configuration space (BARs, command, status, MSI capability) and the level the
/// device drives on its INTx pin before the interrupt-disable bit.</summary>
[MemoryPackable]
public sealed partial record PciConfigState(byte[] Config, bool Intx);

/// <summary>The PCI bus: CONFIG_ADDRESS (0xCF8) and which functions (by devfn) assert each PIRQ. The BAR mappings are
/// derived from the functions' configuration spaces, not saved.</summary>
[MemoryPackable]
public sealed partial record PciBusState(uint Address, byte[][] PirqAsserted);

/// <summary>The edu device: its configuration space, the DMA buffer, every register, and the transfer counters (a
/// transfer in flight is the command's run bit plus the clock's <c>edu.dma</c> timer).</summary>
[MemoryPackable]
public sealed partial record EduState(PciConfigState Pci, byte[] Buffer, uint Liveness, uint Factorial, uint Status,
    uint IrqStatus, ulong DmaSrc, ulong DmaDst, ulong DmaCount, ulong DmaCmd, long DmaTransfers, long DmaFailures);

/// <summary>The DMA engine: configuration space, run state, ring position and counters (the next tick is the clock's
/// <c>dma-engine.tick</c> timer).</summary>
[MemoryPackable]
public sealed partial record DmaEngineState(PciConfigState Pci, bool Running, ulong Ring, uint Entries, uint Interval,
    ulong Next, ulong Written, ulong Faults, ulong Lost, ulong LastFault);
