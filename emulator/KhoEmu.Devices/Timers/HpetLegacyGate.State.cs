using KhoEmu.Core.State;

namespace KhoEmu.Devices.Timers;

public sealed partial class HpetLegacyGate
{
    internal HpetLegacyGateState SaveState() => new(_source, _blocked);

    internal void LoadState(HpetLegacyGateState s) => (_source, _blocked) = (s.Source, s.Blocked);
}
