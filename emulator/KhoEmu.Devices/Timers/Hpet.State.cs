using KhoEmu.Core.State;
using KhoEmu.Devices.State;

namespace KhoEmu.Devices.Timers;

public sealed partial class Hpet : IStateful<HpetState>
{
    public HpetState SaveState() => new(_config, _status, _counterBase, _enabledAt, _timers.Select(t => t.SaveState()).ToArray(),
        PitOutput.SaveState(), RtcOutput.SaveState());

    public void ValidateState(HpetState s)
    {
        StateCheck.Bits("hpet", "config", s.Config, ConfigEnable | ConfigLegacy);
        StateCheck.Bits("hpet", "status", s.Status, (1UL << TimerCount) - 1);
        StateCheck.Length("hpet", "timers", s.Timers, TimerCount);
        StateCheck.That("hpet", s.PitGate is not null && s.RtcGate is not null, "legacy gates missing");
        foreach (var t in s.Timers) HpetTimer.Validate(t);
    }

    public void LoadState(HpetState s)
    {
        (_config, _status, _counterBase, _enabledAt) = (s.Config, s.Status, s.CounterBase, s.EnabledAt);
        for (int i = 0; i < TimerCount; i++) _timers[i].LoadState(s.Timers[i]);
        PitOutput.LoadState(s.PitGate);
        RtcOutput.LoadState(s.RtcGate);
    }
}
