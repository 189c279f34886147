using KhoEmu.Core.State;
using KhoEmu.Devices.State;

namespace KhoEmu.Devices.Interrupts;

/// <summary>The local APIC's state as a value; the timer's deadline is restored with the clock's timers.</summary>
public sealed partial class LocalApic : IStateful<LocalApicState>
{
    public LocalApicState SaveState() => new(Id, (uint[])_irr.Clone(), (uint[])_isr.Clone(), (uint[])_tmr.Clone(), _tpr, _svr,
        _lvtTimer, _divide, _initial, _ldr, _dfr, _lvtLint0, _lvtLint1, _lvtError, _esr, _icrLow, _icrHigh, _nmiPending, _timerStart);

    public void ValidateState(LocalApicState s)
    {
        const string dev = "lapic";
        StateCheck.Length(dev, "IRR", s.Irr, 8);
        StateCheck.Length(dev, "ISR", s.Isr, 8);
        StateCheck.Length(dev, "TMR", s.Tmr, 8);
        StateCheck.Range(dev, "APIC ID", s.Id, 0, 0xFF);
        StateCheck.Bits(dev, "TPR", s.Tpr, 0xFF);
        StateCheck.Bits(dev, "SVR", s.Svr, 0x3FF);
        StateCheck.Bits(dev, "LVT timer", s.LvtTimer, 0x700FF);
        StateCheck.Bits(dev, "divide", s.Divide, 0xB);
        StateCheck.Bits(dev, "LDR", s.Ldr, 0xFF00_0000);
        StateCheck.That(dev, (s.Dfr & 0x0FFF_FFFF) == 0x0FFF_FFFF, $"DFR 0x{s.Dfr:x} has reserved bits clear");
    }

    public void LoadState(LocalApicState s)
    {
        Id = s.Id;
        s.Irr.CopyTo(_irr, 0);
        s.Isr.CopyTo(_isr, 0);
        s.Tmr.CopyTo(_tmr, 0);
        (_tpr, _svr, _lvtTimer, _divide, _initial, _ldr, _dfr) = (s.Tpr, s.Svr, s.LvtTimer, s.Divide, s.Initial, s.Ldr, s.Dfr);
        (_lvtLint0, _lvtLint1, _lvtError, _esr, _icrLow, _icrHigh) = (s.LvtLint0, s.LvtLint1, s.LvtError, s.Esr, s.IcrLow, s.IcrHigh);
        (_nmiPending, _timerStart) = (s.NmiPending, s.TimerStart);
    }
}
