using MemoryPack;

namespace KhoEmu.Devices.Iommu;

/// <summary>
/// The VT-d unit's architectural state (VT-d ch. 11): every writable register, the latched root-table and
/// interrupt-remapping-table pointers, the invalidation queue's base, size, head and tail, the fault status, the one
/// fault record and the event-interrupt registers, and the statistics the machine reports. The context cache, the
/// IOTLB and the interrupt entry cache are not state: they are emptied on load (as QEMU drops them on migration), and
/// a guest that relied on a stale entry was already wrong.
/// </summary>
[MemoryPackable]
public sealed partial record IntelIommuState(
    bool InterruptRemapping,
    uint Gsts, ulong Rtaddr, ulong RootTable, ulong Iva, ulong IotlbReg, ulong Ccmd,
    ulong Iqa, ulong IqBase, int IqEntries, int IqHead, int IqTail, ulong Iqt, ulong Iqercd,
    ulong Irta, ulong IrtBase, int IrtEntries,
    uint Fsts, uint Fectl, uint Fedata, uint Feaddr, uint Feuaddr, uint Ics, uint Iectl, uint Iedata, uint Ieaddr, uint Ieuaddr,
    ulong FrcdLow, ulong FrcdHigh,
    IntelIommuCounters Counters);

/// <summary>What the unit counted (faults, events, descriptors, remapped and blocked interrupts, blocked bytes); the
/// IOTLB hit and miss counts depend on the caches and start again from zero.</summary>
[MemoryPackable]
public sealed partial record IntelIommuCounters(long Faults, long FaultEvents, long CompletionEvents, long Descriptors,
    long QueueErrors, long IgnoredRegisterInvalidations, long InterruptsRemapped, long InterruptsBlocked, long BlockedBytes);
