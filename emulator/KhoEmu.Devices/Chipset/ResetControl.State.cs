using KhoEmu.Core.State;
using KhoEmu.Devices.State;

namespace KhoEmu.Devices.Chipset;

public sealed partial class ResetControl : IStateful<ResetControlState>
{
    public ResetControlState SaveState() => new(_value);

    public void ValidateState(ResetControlState s) => StateCheck.Bits("reset-control", "RST_CNT", s.Value, SysRst | FullRst);

    public void LoadState(ResetControlState s) => _value = s.Value;
}
