using KhoEmu.Core.State;
using KhoEmu.Devices.State;

namespace KhoEmu.Devices.Input;

public sealed partial class I8042Controller : IStateful<I8042State>
{
    public I8042State SaveState() => new(_status, _mode, _outPort, _outputBuffer, _pendingCommand,
        _pending.Select(p => new I8042Byte(p.Value, p.Aux)).ToArray(), _kbdLevel, _auxLevel);

    public void ValidateState(I8042State s)
    {
        StateCheck.That("i8042", s.Pending is not null, "output queue missing");
        // Every command queues at most one byte and the guest must read it: a long queue is not one this model makes.
        StateCheck.Range("i8042", "output queue length", s.Pending!.Length, 0, 4096);
        StateCheck.That("i8042", s.PendingCommand is 0 or 0x60 or 0xD1 or 0xD2 or 0xD3 or 0xD4, $"pending command 0x{s.PendingCommand:x2} takes no data byte");
    }

    public void LoadState(I8042State s)
    {
        (_status, _mode, _outPort, _outputBuffer, _pendingCommand) = (s.Status, s.Mode, s.OutPort, s.OutputBuffer, s.PendingCommand);
        _pending.Clear();
        foreach (var p in s.Pending) _pending.Enqueue((p.Value, p.Aux));
        (_kbdLevel, _auxLevel) = (s.KeyboardLevel, s.AuxLevel);
    }
}
