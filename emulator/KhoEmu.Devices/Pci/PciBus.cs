using KhoEmu.Core;

namespace KhoEmu.Devices.Pci;

/// <summary>
/// PCI bus 0: configuration mechanism #1 (0xCF8 address, 0xCFC data) and ECAM (offset = bus &lt;&lt; 20 | dev &lt;&lt; 15 |
/// fn &lt;&lt; 12 | reg) for the functions plugged in, and the placement of their memory BARs on the MMIO bus whenever
/// configuration changes. A BAR the guest places over something else stays unmapped (reported in
/// <see cref="Conflicts"/>) rather than failing the machine. Absent functions read all ones.
/// INTx routing follows QEMU's q35 (ICH9 LPC defaults): pin INTx of slot s drives PIRQ[E..H] number
/// (s + x) % 4 + 4, and PIRQ n is I/O APIC input 16 + n. Functions sharing a PIRQ are wired-OR.
/// </summary>
public sealed partial class PciBus : IPortDevice, IMmioDevice
{
    private readonly MmioBus _mmio;
    private readonly PciFunction?[] _slots = new PciFunction?[256];
    private readonly Dictionary<(PciFunction, int), ulong> _mapped = [];
    private uint _address;
    public List<string> Conflicts { get; } = [];

    private readonly HashSet<PciFunction>[] _pirqAsserted = Enumerable.Range(0, 8).Select(_ => new HashSet<PciFunction>()).ToArray();

    public PciBus(MmioBus mmio) => _mmio = mmio;

    /// <summary>Receives (I/O APIC input, level) whenever a PIRQ line changes.</summary>
    public Action<int, bool>? InterruptSink { get; set; }

    /// <summary>The PIRQ (0 = A .. 7 = H) that INTx pin <paramref name="pin"/> (1 = INTA) of <paramref name="slot"/> drives.</summary>
    public static int Pirq(int slot, int pin) => (slot + pin - 1) % 4 + 4;

    /// <summary>The I/O APIC input (GSI) for a slot's INTx pin, as the q35 ACPI tables describe it.</summary>
    public static int Gsi(int slot, int pin) => 16 + Pirq(slot, pin);

    private void IntxChanged(PciFunction f, bool level)
    {
        int pirq = Pirq(f.SourceId >> 3, f.InterruptPin);
        var set = _pirqAsserted[pirq];
        bool before = set.Count > 0;
        if (level) set.Add(f); else set.Remove(f);
        if (set.Count > 0 != before) InterruptSink?.Invoke(16 + pirq, set.Count > 0);
    }

    public void Plug(int device, int function, PciFunction f)
    {
        int devfn = (device << 3) | function;
        if (_slots[devfn] is not null) throw new ArgumentException($"PCI slot {device:x2}.{function} is taken");
        _slots[devfn] = f;
        f.SourceId = (ushort)devfn;
        f.ConfigChanged = () => Remap(f);
        f.IntxSink = IntxChanged;
    }

    public IEnumerable<PciFunction> Functions => _slots.Where(s => s is not null)!;

    private void Remap(PciFunction f)
    {
        var want = f.MappedBars().ToDictionary(b => b.Index, b => b);
        foreach (var key in _mapped.Keys.Where(k => k.Item1 == f).ToList())
        {
            if (want.TryGetValue(key.Item2, out var b) && b.Address == _mapped[key]) continue;
            _mmio.Unregister(_mapped[key]);
            _mapped.Remove(key);
        }
        foreach (var (index, addr, size, dev) in want.Values)
        {
            if (_mapped.ContainsKey((f, index))) continue;
            try
            {
                _mmio.Register(addr, size, dev, $"{f.Name}-bar{index}");
                _mapped[(f, index)] = addr;
            }
            catch (BusConflictException e)
            {
                Conflicts.Add($"{f.Name} BAR{index} at 0x{addr:x}: {e.Message}");
            }
        }
    }

    private PciFunction? At(uint bus, uint devfn) => bus == 0 ? _slots[devfn] : null;

    // ---- 0xCF8 / 0xCFC ----

    public uint ReadPort(ushort offset, int size)
    {
        if (offset < 4) return size == 4 ? _address : (uint)(_address >> (8 * offset)) & ((1u << (8 * size)) - 1);
        if ((_address & 0x8000_0000) == 0) return uint.MaxValue >> (32 - 8 * size);
        var f = At((_address >> 16) & 0xFF, (_address >> 8) & 0xFF);
        int reg = (int)(_address & 0xFC) + (offset - 4);
        return f?.ReadConfig(reg, size) ?? uint.MaxValue >> (32 - 8 * size);
    }

    public void WritePort(ushort offset, int size, uint value)
    {
        if (offset < 4)
        {
            if (size == 4) _address = value & 0x80FF_FFFC;
            return;
        }
        if ((_address & 0x8000_0000) == 0) return;
        At((_address >> 16) & 0xFF, (_address >> 8) & 0xFF)?.WriteConfig((int)(_address & 0xFC) + (offset - 4), size, value);
    }

    // ---- ECAM ----

    public ulong ReadMmio(ulong offset, int size)
    {
        var f = At((uint)(offset >> 20) & 0xFF, (uint)(offset >> 12) & 0xFF);
        int reg = (int)(offset & 0xFFF);
        if (f is null || reg >= 256) return size == 8 ? ulong.MaxValue : (1UL << (8 * size)) - 1;
        if (size == 8) return f.ReadConfig(reg, 4) | ((ulong)f.ReadConfig(reg + 4, 4) << 32);
        return f.ReadConfig(reg, size);
    }

    public void WriteMmio(ulong offset, int size, ulong value)
    {
        var f = At((uint)(offset >> 20) & 0xFF, (uint)(offset >> 12) & 0xFF);
        int reg = (int)(offset & 0xFFF);
        if (f is null || reg >= 256) return;
        if (size == 8)
        {
            f.WriteConfig(reg, 4, (uint)value);
            f.WriteConfig(reg + 4, 4, (uint)(value >> 32));
        }
        else f.WriteConfig(reg, size, (uint)value);
    }
}
