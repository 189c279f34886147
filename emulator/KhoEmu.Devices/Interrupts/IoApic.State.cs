using KhoEmu.Core.State;
using KhoEmu.Devices.State;

namespace KhoEmu.Devices.Interrupts;

public sealed partial class IoApic : IStateful<IoApicState>
{
    public IoApicState SaveState() => new((ulong[])_redirection.Clone(), (bool[])_level.Clone(), _select, _id);

    public void ValidateState(IoApicState s)
    {
        StateCheck.Length("ioapic", "redirection entries", s.Redirection, Pins);
        StateCheck.Length("ioapic", "line levels", s.Levels, Pins);
        foreach (var e in s.Redirection) StateCheck.Bits("ioapic", "redirection entry", e, WritableBits | RemoteIrr);
        StateCheck.Range("ioapic", "select", s.Select, 0, 0xFF);
        StateCheck.Bits("ioapic", "id", s.Id, 0x0F00_0000);
    }

    public void LoadState(IoApicState s)
    {
        s.Redirection.CopyTo(_redirection, 0);
        s.Levels.CopyTo(_level, 0);
        (_select, _id) = (s.Select, s.Id);
    }
}
