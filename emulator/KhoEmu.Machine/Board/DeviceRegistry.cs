using KhoEmu.Core;
using KhoEmu.Devices.Bus;
using KhoEmu.Devices.Pci;

namespace KhoEmu.Machine.Board;

/// <summary>One device as the machine registered it: where the layout placed it and the object that answers.</summary>
public sealed record RegisteredDevice(BoardDevice Board, object Device);

/// <summary>
/// The machine's named device registry: registers each device on the port bus, the MMIO bus or PCI bus 0 exactly where
/// its <see cref="BoardDevice"/> record says, and remembers it, so the tables built from the layout and a monitor's
/// device listing describe what is actually wired. Names are unique; the buses refuse overlapping ranges.
/// </summary>
public sealed class DeviceRegistry(PortBus ports, MmioBus mmio)
{
    private readonly List<RegisteredDevice> _devices = [];

    public IReadOnlyList<RegisteredDevice> Devices => _devices;

    /// <summary>Registers <paramref name="device"/> on every port range and the MMIO range of <paramref name="board"/>;
    /// offsets in later port ranges continue from the first range's base.</summary>
    public T Add<T>(BoardDevice board, T device) where T : class
    {
        CheckName(board);
        if (board.Ports.Length > 0)
        {
            if (device is not IPortDevice p) throw new ArgumentException($"{board.Name} has ports but {typeof(T).Name} decodes none");
            // A device sees offsets from its first range; later ranges (0x64 beside 0x60, PCI's bytes around 0xCF9)
            // keep their distance from it.
            var first = board.Ports[0].Base;
            foreach (var r in board.Ports)
                ports.Register(r.Base, r.Count, r.Base == first ? p : new PortWindow(p, (ushort)(r.Base - first)), board.Name);
        }
        if (board.Mmio is { } m)
        {
            if (device is not IMmioDevice d) throw new ArgumentException($"{board.Name} has MMIO but {typeof(T).Name} decodes none");
            mmio.Register(m.Base, m.Size, d, board.Name);
        }
        _devices.Add(new(board, device));
        return device;
    }

    /// <summary>Plugs a PCI function into bus 0 at the slot of <paramref name="board"/> (function 0).</summary>
    public T AddPci<T>(BoardDevice board, PciBus bus, T function) where T : PciFunction
    {
        if (board.PciSlot < 0) throw new ArgumentException($"{board.Name} has no PCI slot in the layout");
        CheckName(board);
        bus.Plug(board.PciSlot, 0, function);
        _devices.Add(new(board, function));
        return function;
    }

    /// <summary>Records a device that registers its own decoders (several sub-devices behind one object).</summary>
    public T Note<T>(BoardDevice board, T device) where T : class
    {
        CheckName(board);
        _devices.Add(new(board, device));
        return device;
    }

    public RegisteredDevice? Find(string name) => _devices.FirstOrDefault(d => d.Board.Name == name);

    private void CheckName(BoardDevice board)
    {
        if (Find(board.Name) is not null) throw new ArgumentException($"device {board.Name} is registered twice");
    }
}
