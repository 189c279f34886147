using KhoEmu.Core;

namespace KhoEmu.Devices.Timers;

/// <summary>
/// The path from the 8254's OUT0 or the RTC's IRQ output to its ISA line. While the HPET's legacy replacement route
/// is on, the HPET owns IRQ 0 and IRQ 8 and this gate holds the original source off the line (IA-PC HPET
/// specification 1.0a, 2.3.9.2.2 "Legacy Replacement Option"); when it goes off, the line returns to the source's level.
/// </summary>
public sealed partial class HpetLegacyGate(IIrqLine target) : IIrqLine
{
    private bool _source, _blocked;

    public void Set(bool level)
    {
        _source = level;
        if (!_blocked) target.Set(level);
    }

    internal void Block(bool blocked)
    {
        if (blocked == _blocked) return;
        _blocked = blocked;
        target.Set(!blocked && _source);
    }
}
