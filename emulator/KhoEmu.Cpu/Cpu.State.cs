using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu;

/// <summary>
/// The CPU as an <see cref="KhoEmu.Core.State.IStateful{TState}"/>: its <see cref="CpuState"/> out and in
/// (docs/cpu.md, "CPU state"). Validation is in Cpu.StateValidation.cs.
/// </summary>
public sealed partial class Cpu
{
    /// <summary>The CPU's state now, lazy flags and all, with padding zeroed. Nothing is flushed or materialized, so
    /// saving does not change what the CPU does next.</summary>
    public CpuState SaveState() => _s.Canonical();

    /// <summary>
    /// Replaces the CPU's state with a validated one. The caches derived from it are dropped or recomputed: decoded
    /// blocks, both TLBs (and which one CPL selects), the 64-bit-mode flag, the breakpoint masks DR7 implies. The
    /// per-instruction bookkeeping (a fault being raised, an event being delivered) is idle, as it is between
    /// instructions. FERR# is not driven: the line's level is the receiver's state and is restored with it.
    /// </summary>
    public void LoadState(CpuState state)
    {
        _s = state;
        Faulted = false;
        _deliveringVector = -1;
        _pushRf = _eventDelivered = _rfLoaded = _implicitSupervisor = false;
        _unsupported = _stopRequested = false;
        Diagnostic = null;
        _insnStart = Rip;
        _blocks.Clear();
        UpdateMode();
        UpdateBreakpoints(); // the masks are derived from DR7; recomputing them also flushes what they cache
        FlushTlb();
        _exitBlock = true;
    }
}
