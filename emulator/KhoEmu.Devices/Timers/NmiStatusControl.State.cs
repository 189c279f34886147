using KhoEmu.Core.State;
using KhoEmu.Devices.State;

namespace KhoEmu.Devices.Timers;

/// <summary>Port 0x61's own bits (counter 2's gate is also in the PIT's state, which it drives).</summary>
public sealed partial class NmiStatusControl : IStateful<NmiStatusControlState>
{
    public NmiStatusControlState SaveState() => new(_control, _refresh);

    public void ValidateState(NmiStatusControlState s)
    {
        StateCheck.Bits("port61", "control", s.Control, Gate2 | SpeakerData | NmiDisables);
        StateCheck.Bits("port61", "refresh", s.Refresh, RefreshToggle);
    }

    public void LoadState(NmiStatusControlState s) => (_control, _refresh) = (s.Control, s.Refresh);
}
