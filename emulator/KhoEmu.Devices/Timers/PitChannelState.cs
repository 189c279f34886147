using MemoryPack;

namespace KhoEmu.Devices.Timers;

/// <summary>One 8254 counter: control word fields, the count, the gate and OUT, the time base (anchor, ticks before a
/// gate pause), the read/write byte toggles and the count and status latches.</summary>
[MemoryPackable]
public sealed partial record PitChannelState(
    int ControlMode, int Mode, int Access, bool Bcd, int Count, bool Loaded, bool Gate, bool Triggered, bool Out,
    ulong Anchor, ulong TicksBefore, bool WriteMsbNext, bool ReadMsbNext, byte WriteLsb,
    int LatchedCount, int LatchedBytes, bool LatchMsbFirst, byte? Status);

/// <summary>The 8254: its three counters (the timer of counter 0 is the clock's).</summary>
[MemoryPackable]
public sealed partial record Pit8254State(PitChannelState[] Channels);
