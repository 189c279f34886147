using KhoEmu.Core;

namespace KhoEmu.Machine.Tests.Chipset;

/// <summary>An interrupt line that records every level change with the virtual time it happened.</summary>
public sealed class RecordingIrqLine(VirtualClock clock) : IIrqLine
{
    public List<(ulong Time, bool Level)> Changes { get; } = [];
    public bool Level { get; private set; }

    /// <summary>Times of the rising edges (what an edge-triggered 8259 or I/O APIC input counts).</summary>
    public IEnumerable<ulong> RisingEdges => Changes.Where(c => c.Level).Select(c => c.Time);

    public void Set(bool level)
    {
        if (level != Level) Changes.Add((clock.Now, level));
        Level = level;
    }
}
