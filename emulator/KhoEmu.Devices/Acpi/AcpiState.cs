using MemoryPack;

namespace KhoEmu.Devices.Acpi;

/// <summary>The ICH9 PM block: PM1 status/enable/control, GPE0 status and enable, SMI_EN, when TMR_STS sets next
/// (in PM timer ticks) and the SCI level. The PM timer itself is virtual time; its overflow event is the clock's
/// <c>acpi-pm.overflow</c> timer.</summary>
[MemoryPackable]
public sealed partial record Ich9PmState(ushort Status, ushort Enable, ushort Control, byte[] GpeStatus, byte[] GpeEnable,
    uint SmiEnable, ulong NextOverflow, bool SciLevel);

/// <summary>APM ports 0xB2 / 0xB3.</summary>
[MemoryPackable]
public sealed partial record ApmState(byte Control, byte Status);
