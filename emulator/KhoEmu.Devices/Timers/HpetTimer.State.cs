using KhoEmu.Core.State;
using KhoEmu.Devices.State;

namespace KhoEmu.Devices.Timers;

public sealed partial class HpetTimer
{
    internal HpetTimerState SaveState() => new(Config, Comparator, Period, FsbRoute, _asserted, _assertedRoute);

    internal static void Validate(HpetTimerState s)
    {
        ulong fixedBits = (ulong)Hpet.InterruptRouteCapability << 32 | PeriodicCapable | Size64Capable;
        StateCheck.That("hpet", (s.Config & ~WritableConfig) == fixedBits, $"timer config 0x{s.Config:x} changes read-only bits");
        // -1 / -2 are the legacy IRQ 0 / IRQ 8, else an I/O APIC input (the route field is 5 bits).
        StateCheck.Range("hpet", "asserted route", s.AssertedRoute, -2, 31);
    }

    internal void LoadState(HpetTimerState s)
    {
        (Config, Comparator, Period, FsbRoute, _asserted, _assertedRoute) = (s.Config, s.Comparator, s.Period, s.FsbRoute, s.Asserted, s.AssertedRoute);
    }
}
