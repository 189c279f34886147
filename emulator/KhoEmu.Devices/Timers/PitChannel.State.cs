using KhoEmu.Core.State;
using KhoEmu.Devices.State;

namespace KhoEmu.Devices.Timers;

/// <summary>The counter's state as a value; its clock timer (counter 0's) is re-armed by the clock's own state.</summary>
public sealed partial class PitChannel : IStateful<PitChannelState>
{
    public PitChannelState SaveState() => new(_controlMode, _mode, _access, _bcd, _count, _loaded, _gate, _triggered, _out,
        _anchor, _ticksBefore, _writeMsbNext, _readMsbNext, _writeLsb, _latchedCount, _latchedBytes, _latchMsbFirst, _status);

    public void ValidateState(PitChannelState s)
    {
        const string dev = "pit";
        StateCheck.Range(dev, "control mode", s.ControlMode, 0, 7);
        StateCheck.That(dev, s.Mode == (s.ControlMode > 5 ? s.ControlMode - 4 : s.ControlMode), $"mode {s.Mode} does not match control mode {s.ControlMode}");
        StateCheck.Range(dev, "access", s.Access, AccessLsb, AccessWord);
        StateCheck.Range(dev, "count", s.Count, 1, s.Bcd ? 10000 : 0x10000);
        StateCheck.Range(dev, "latched bytes", s.LatchedBytes, 0, 2);
        StateCheck.Range(dev, "latched count", s.LatchedCount, 0, 0xFFFF);
    }

    public void LoadState(PitChannelState s)
    {
        (_controlMode, _mode, _access, _bcd, _count, _loaded, _gate, _triggered, _out) =
            (s.ControlMode, s.Mode, s.Access, s.Bcd, s.Count, s.Loaded, s.Gate, s.Triggered, s.Out);
        (_anchor, _ticksBefore, _writeMsbNext, _readMsbNext, _writeLsb) = (s.Anchor, s.TicksBefore, s.WriteMsbNext, s.ReadMsbNext, s.WriteLsb);
        (_latchedCount, _latchedBytes, _latchMsbFirst, _status) = (s.LatchedCount, s.LatchedBytes, s.LatchMsbFirst, s.Status);
    }
}
