using MemoryPack;

namespace KhoEmu.Core.State;

/// <summary>
/// One named section of a snapshot file: a component's state as bytes. Loading is two-phase: every section is decoded
/// and validated first (<see cref="Decode"/>), and only when all succeed are they applied (<see cref="Apply"/>).
/// </summary>
public interface ISnapshotSection
{
    /// <summary>Unique within a machine, e.g. <c>cpu0</c>, <c>clock</c>, <c>uart@3f8</c>, <c>pci/00:03.0</c>.</summary>
    string Name { get; }

    /// <summary>The section's encoding version; a reader refuses one it does not know.</summary>
    ushort Version { get; }

    byte[] Save();

    /// <summary>Decodes and validates <paramref name="bytes"/> without touching the component.</summary>
    /// <exception cref="SnapshotFormatException">The bytes are not a valid state for this component.</exception>
    object Decode(ReadOnlySpan<byte> bytes);

    /// <summary>Loads a state that <see cref="Decode"/> returned.</summary>
    void Apply(object state);
}

/// <summary>A section for an <see cref="IStateful{TState}"/> component, encoded with MemoryPack.</summary>
public sealed class StateSection<TState>(string name, IStateful<TState> component, ushort version = 1) : ISnapshotSection
{
    public string Name { get; } = name;
    public ushort Version { get; } = version;

    public byte[] Save() => MemoryPackSerializer.Serialize(component.SaveState());

    public object Decode(ReadOnlySpan<byte> bytes)
    {
        TState? state;
        try { state = MemoryPackSerializer.Deserialize<TState>(bytes); }
        catch (MemoryPackSerializationException e) { throw new SnapshotFormatException($"section {Name}: {e.Message}"); }
        catch (ArgumentException e) { throw new SnapshotFormatException($"section {Name}: {e.Message}"); }
        catch (IndexOutOfRangeException) { throw new SnapshotFormatException($"section {Name}: truncated"); }
        if (state is null) throw new SnapshotFormatException($"section {Name}: empty");
        component.ValidateState(state);
        return state;
    }

    public void Apply(object state) => component.LoadState((TState)state);
}
