using KhoEmu.Core.State;
using KhoEmu.Devices.State;

namespace KhoEmu.Devices.Pci;

/// <summary>The host-side <see cref="Log"/> is a test aid, not device state: it is not saved.</summary>
public sealed partial class DmaEngine : IStateful<DmaEngineState>
{
    public DmaEngineState SaveState() => new(SaveConfig(), _running, _ring, _entries, _interval, _next, _written, _faults, _lost, _lastFault);

    public void ValidateState(DmaEngineState s)
    {
        ValidateConfig(s.Pci);
        StateCheck.Range(Name, "tick interval", s.Interval, 1000, uint.MaxValue);
        StateCheck.That(Name, !s.Running || s.Entries > 0, "running with an empty ring");
    }

    public void LoadState(DmaEngineState s)
    {
        LoadConfig(s.Pci);
        (_running, _ring, _entries, _interval) = (s.Running, s.Ring, s.Entries, s.Interval);
        (_next, _written, _faults, _lost, _lastFault) = (s.Next, s.Written, s.Faults, s.Lost, s.LastFault);
    }
}
