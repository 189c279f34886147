using KhoEmu.Core.State;
using KhoEmu.Devices.State;

namespace KhoEmu.Devices.Acpi;

public sealed partial class Ich9PowerManagement : IStateful<Ich9PmState>
{
    public Ich9PmState SaveState() => new(_status, _enable, _control, (byte[])_gpeStatus.Clone(), (byte[])_gpeEnable.Clone(),
        _smiEnable, _nextOverflow, _sciLevel);

    public void ValidateState(Ich9PmState s)
    {
        StateCheck.Bits("acpi-pm", "PM1 status", s.Status, StatusBits);
        StateCheck.Bits("acpi-pm", "PM1 enable", s.Enable, EnableBits);
        StateCheck.Bits("acpi-pm", "PM1 control", s.Control, ControlBits);
        StateCheck.Length("acpi-pm", "GPE0 status", s.GpeStatus, GpeHalf);
        StateCheck.Length("acpi-pm", "GPE0 enable", s.GpeEnable, GpeHalf);
        StateCheck.That("acpi-pm", s.NextOverflow % TimerOverflowTicks == 0, $"next overflow {s.NextOverflow} is not a toggle of bit 23");
    }

    public void LoadState(Ich9PmState s)
    {
        (_status, _enable, _control, _smiEnable, _nextOverflow, _sciLevel) = (s.Status, s.Enable, s.Control, s.SmiEnable, s.NextOverflow, s.SciLevel);
        s.GpeStatus.CopyTo(_gpeStatus, 0);
        s.GpeEnable.CopyTo(_gpeEnable, 0);
    }
}
