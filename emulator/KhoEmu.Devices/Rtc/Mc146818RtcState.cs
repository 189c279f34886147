using MemoryPack;

namespace KhoEmu.Devices.Rtc;

/// <summary>
/// The RTC: the 128 CMOS bytes (time registers as last refreshed, A-D, NVRAM), the index and NMI-mask bit, the IRQ
/// level, and the time base: the virtual time of an update boundary (the divider's phase), the calendar second at
/// that boundary (the virtual calendar: the host start time is only where it began) and how far the flags were
/// evaluated. The next interrupt is the clock's <c>rtc</c> timer.
/// </summary>
[MemoryPackable]
public sealed partial record Mc146818RtcState(byte[] Cmos, byte Index, bool NmiMasked, bool IrqLevel, long Anchor,
    long SecondsAtAnchor, ulong LastSync);
