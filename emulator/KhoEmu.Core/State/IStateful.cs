namespace KhoEmu.Core.State;

/// <summary>
/// A machine component whose whole architectural state is one value of type <typeparamref name="TState"/>: saved
/// with <see cref="SaveState"/>, checked with <see cref="ValidateState"/> and put back with <see cref="LoadState"/>.
/// Caches the hardware may drop (TLBs, decoded code, IOTLB) are not part of the state; a component empties them when
/// it loads one. The state type is a MemoryPack-serializable value with value equality, so a test can compare two.
/// </summary>
public interface IStateful<TState>
{
    /// <summary>The component's state now. The value shares nothing mutable with the component.</summary>
    TState SaveState();

    /// <summary>
    /// Checks that <paramref name="state"/> could be loaded (sizes, indices, ranges the component relies on) and throws
    /// <see cref="SnapshotFormatException"/> if not. It changes nothing, so a snapshot is checked whole before any
    /// component is loaded and nothing is ever half-restored.
    /// </summary>
    void ValidateState(TState state);

    /// <summary>Replaces the component's state with a validated <paramref name="state"/> (re-arming its timers).</summary>
    void LoadState(TState state);
}
