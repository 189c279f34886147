using KhoEmu.Core.State;
using KhoEmu.Devices.State;

namespace KhoEmu.Devices.Rtc;

public sealed partial class Mc146818Rtc : IStateful<Mc146818RtcState>
{
    public Mc146818RtcState SaveState() => new((byte[])_cmos.Clone(), _index, NmiMasked, _irqLevel, _anchor, _secondsAtAnchor, _lastSync);

    public void ValidateState(Mc146818RtcState s)
    {
        StateCheck.Length("rtc", "CMOS", s.Cmos, 128);
        StateCheck.Range("rtc", "index", s.Index, 0, 0x7F);
        StateCheck.Bits("rtc", "register A", s.Cmos[RegisterA], 0x7F);   // UIP is computed, never stored
    }

    public void LoadState(Mc146818RtcState s)
    {
        s.Cmos.CopyTo(_cmos, 0);
        (_index, NmiMasked, _irqLevel, _anchor, _secondsAtAnchor, _lastSync) = (s.Index, s.NmiMasked, s.IrqLevel, s.Anchor, s.SecondsAtAnchor, s.LastSync);
    }
}
