using KhoEmu.Core.State;
using KhoEmu.Devices.State;

namespace KhoEmu.Devices.Uart16550;

/// <summary>The output stream is configuration (where the console goes), not state.</summary>
public sealed partial class Uart16550 : IStateful<Uart16550State>
{
    /// <summary>The receive FIFO holds at most this much in a snapshot (a guest that never reads still has a bound).</summary>
    public const int MaxSavedRx = 1 << 24;

    public Uart16550State SaveState() => new(_rx.ToArray(), _ier, _lcr, _mcr, _scr, _dll, _dlm, _thrInterruptPending);

    public void ValidateState(Uart16550State s)
    {
        StateCheck.That("uart", s.Rx is not null, "receive FIFO missing");
        StateCheck.Range("uart", "receive FIFO length", s.Rx!.Length, 0, MaxSavedRx);
        StateCheck.Bits("uart", "IER", s.Ier, 0x0F);
        StateCheck.Bits("uart", "MCR", s.Mcr, 0x1F);
    }

    public void LoadState(Uart16550State s)
    {
        _rx.Clear();
        foreach (byte b in s.Rx) _rx.Enqueue(b);
        (_ier, _lcr, _mcr, _scr, _dll, _dlm, _thrInterruptPending) = (s.Ier, s.Lcr, s.Mcr, s.Scr, s.Dll, s.Dlm, s.ThrInterruptPending);
    }
}
