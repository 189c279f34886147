using KhoEmu.Core.State;
using KhoEmu.Devices.State;

namespace KhoEmu.Devices.Timers;

public sealed partial class Pit8254 : IStateful<Pit8254State>
{
    public Pit8254State SaveState() => new(_channels.Select(c => c.SaveState()).ToArray());

    public void ValidateState(Pit8254State s)
    {
        StateCheck.Length("pit", "channels", s.Channels, 3);
        for (int i = 0; i < 3; i++) _channels[i].ValidateState(s.Channels[i]);
    }

    public void LoadState(Pit8254State s)
    {
        for (int i = 0; i < 3; i++) _channels[i].LoadState(s.Channels[i]);
    }
}
