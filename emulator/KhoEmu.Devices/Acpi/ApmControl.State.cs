using KhoEmu.Core.State;

namespace KhoEmu.Devices.Acpi;

public sealed partial class ApmControl : IStateful<ApmState>
{
    public ApmState SaveState() => new(_control, _status);

    public void ValidateState(ApmState state) { }   // any two bytes are a state

    public void LoadState(ApmState s) => (_control, _status) = (s.Control, s.Status);
}
