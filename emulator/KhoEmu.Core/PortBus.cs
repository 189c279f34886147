namespace KhoEmu.Core;

/// <summary>
/// The 64 KiB x86 I/O port space. Lookup is one array index per access; overlapping registrations are refused.
/// Unclaimed ports read as all ones and ignore writes, as on a PC.
/// </summary>
public sealed class PortBus
{
    private readonly IPortDevice?[] _owner = new IPortDevice?[65536];
    private readonly ushort[] _base = new ushort[65536];
    private readonly List<(ushort Base, int Count, string Name)> _ranges = [];

    /// <summary>Places <paramref name="device"/> at ports [<paramref name="basePort"/>, +count).</summary>
    public void Register(ushort basePort, int count, IPortDevice device, string name)
    {
        if (count <= 0 || basePort + count > 65536)
            throw new ArgumentOutOfRangeException(nameof(count), $"port range 0x{basePort:x}+{count} for {name} does not fit");
        for (int p = basePort; p < basePort + count; p++)
        {
            if (_owner[p] is not null)
            {
                var other = _ranges.First(r => p >= r.Base && p < r.Base + r.Count);
                throw new BusConflictException($"port 0x{p:x} of {name} already belongs to {other.Name}");
            }
        }
        for (int p = basePort; p < basePort + count; p++)
        {
            _owner[p] = device;
            _base[p] = basePort;
        }
        _ranges.Add((basePort, count, name));
    }

    public IReadOnlyList<(ushort Base, int Count, string Name)> Ranges => _ranges;

    /// <summary>Runs before every access: the machine brings the clock up to the CPU's time, so a device that derives
    /// its registers from virtual time (timers, counters) reads the present rather than the last event's time.</summary>
    public Action? BeforeAccess { get; set; }

    public uint Read(ushort port, int size)
    {
        BeforeAccess?.Invoke();
        var dev = _owner[port];
        if (dev is null) return size switch { 1 => 0xFFu, 2 => 0xFFFFu, _ => 0xFFFF_FFFFu };
        return dev.ReadPort((ushort)(port - _base[port]), size);
    }

    public void Write(ushort port, int size, uint value)
    {
        BeforeAccess?.Invoke();
        var dev = _owner[port];
        dev?.WritePort((ushort)(port - _base[port]), size, value);
    }
}
