using MemoryPack;

namespace KhoEmu.Devices.Timers;

/// <summary>One HPET comparator: configuration, comparator, period, FSB route, and the level line it holds (and where).</summary>
[MemoryPackable]
public sealed partial record HpetTimerState(ulong Config, ulong Comparator, ulong Period, ulong FsbRoute, bool Asserted, int AssertedRoute);

/// <summary>An HPET legacy-route gate: the source's level and whether the HPET cuts it off.</summary>
[MemoryPackable]
public sealed partial record HpetLegacyGateState(bool Source, bool Blocked);

/// <summary>The HPET: general configuration, interrupt status, the counter base and when counting started, the three
/// comparators and the two legacy gates (the comparators' deadlines are the clock's timers).</summary>
[MemoryPackable]
public sealed partial record HpetState(ulong Config, ulong Status, ulong CounterBase, ulong EnabledAt,
    HpetTimerState[] Timers, HpetLegacyGateState PitGate, HpetLegacyGateState RtcGate);

/// <summary>Port 0x61: the control bits last written and the refresh toggle.</summary>
[MemoryPackable]
public sealed partial record NmiStatusControlState(byte Control, byte Refresh);
