using System.Buffers.Binary;
using KhoEmu.Core;

namespace KhoEmu.Devices.Pci;

/// <summary>
/// A PCI function's type-0 configuration space (PCI Local Bus 3.0, ch. 6): 256 bytes with a per-byte writable mask,
/// the command register's memory/bus-master bits, and up to six BARs whose size comes from their writable mask
/// (writing all ones reads back ~(size - 1) | flags). The bus maps memory BARs when the command register enables them.
/// </summary>
public abstract partial class PciFunction
{
    public const int CommandOffset = 0x04, StatusOffset = 0x06, Bar0 = 0x10, InterruptLine = 0x3C;
    public const ushort CommandMemory = 0x2, CommandBusMaster = 0x4, CommandIntxDisable = 0x400;

    private readonly byte[] _config = new byte[256];
    private readonly byte[] _writable = new byte[256];
    private readonly (ulong Size, IMmioDevice? Device)[] _bars = new (ulong, IMmioDevice?)[6];

    public abstract string Name { get; }
    /// <summary>bus &lt;&lt; 8 | device &lt;&lt; 3 | function, as the IOMMU sees DMA from it.</summary>
    public ushort SourceId { get; internal set; }
    internal Action? ConfigChanged;

    protected void SetIdentity(ushort vendor, ushort device, uint classCode, byte revision, ushort subVendor = 0, ushort subDevice = 0)
    {
        W16(0x00, vendor);
        W16(0x02, device);
        _config[0x08] = revision;
        _config[0x09] = (byte)classCode;
        _config[0x0A] = (byte)(classCode >> 8);
        _config[0x0B] = (byte)(classCode >> 16);
        W16(0x2C, subVendor);
        W16(0x2E, subDevice);
        Writable(CommandOffset, 2, 0x0407);           // I/O, memory, bus master, interrupt disable
        Writable(0x0C, 1, 0xFF);                      // cache line size
        Writable(0x0D, 1, 0xFF);                      // latency timer
        Writable(InterruptLine, 1, 0xFF);
    }

    /// <summary>Declares BAR <paramref name="index"/>: 32-bit non-prefetchable memory of <paramref name="size"/> (a power of two).</summary>
    protected void AddMemoryBar(int index, ulong size, IMmioDevice device)
    {
        if (size < 16 || (size & (size - 1)) != 0) throw new ArgumentException("BAR size must be a power of two of at least 16");
        _bars[index] = (size, device);
        Writable(Bar0 + 4 * index, 4, (uint)~(size - 1));
    }

    protected void SetInterruptPin(byte pin) => _config[0x3D] = pin;

    /// <summary>INTA..INTD as 1..4 (0: the function uses no INTx pin).</summary>
    public int InterruptPin => _config[0x3D];

    /// <summary>Where the INTx level goes (the bus routes the pin to an I/O APIC input).</summary>
    internal Action<PciFunction, bool>? IntxSink;
    private bool _intx;

    /// <summary>The level the function drives on its INTx pin, after the command register's interrupt-disable bit.</summary>
    public bool IntxAsserted => _intx && (Command & CommandIntxDisable) == 0;

    /// <summary>Drives the function's INTx pin (status bit 3 shows the device's request even while disabled).</summary>
    protected void SetIntx(bool level)
    {
        if (InterruptPin == 0) return;
        bool before = IntxAsserted;
        _intx = level;
        if (level) _config[StatusOffset] |= 0x08; else _config[StatusOffset] &= 0xF7;
        if (IntxAsserted != before) IntxSink?.Invoke(this, IntxAsserted);
    }

    /// <summary>Whether the guest enabled the MSI capability (then INTx stays quiet).</summary>
    protected bool MsiEnabled => _msiOffset >= 0 && (_config[_msiOffset + 2] & 1) != 0;

    private int _msiOffset = -1;
    /// <summary>Where MSI writes go (the machine routes 0xFEExxxxx to the local APIC).</summary>
    public Action<ulong, uint>? MsiSink { get; set; }

    /// <summary>An MSI capability (64-bit address, one vector) at <paramref name="offset"/>.</summary>
    protected void AddMsiCapability(int offset)
    {
        Span<byte> body = stackalloc byte[12];
        body[0] = 0x80;                                             // message control: 64-bit capable, 1 vector
        Span<byte> writable = stackalloc byte[12];
        writable[0] = 0x01;                                         // MSI enable
        for (int i = 2; i < 12; i++) writable[i] = 0xFF;            // address (low 2 bits 0) and data
        writable[2] = 0xFC;
        AddCapability(offset, 0x05, body, writable);
        _msiOffset = offset;
    }

    /// <summary>Signals the function's MSI if the guest enabled it; false when it did not.</summary>
    protected bool RaiseMsi()
    {
        if (!MsiEnabled || MsiSink is null) return false;
        ulong addr = BinaryPrimitives.ReadUInt32LittleEndian(_config.AsSpan(_msiOffset + 4))
            | ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(_config.AsSpan(_msiOffset + 8)) << 32);
        uint data = BinaryPrimitives.ReadUInt16LittleEndian(_config.AsSpan(_msiOffset + 12));
        MsiSink(addr, data);
        return true;
    }

    /// <summary>Adds a capability at <paramref name="offset"/> (linked into the list; status bit 4 set).</summary>
    protected void AddCapability(int offset, byte id, ReadOnlySpan<byte> body, ReadOnlySpan<byte> writableBody)
    {
        _config[offset] = id;
        _config[offset + 1] = _config[0x34];
        _config[0x34] = (byte)offset;
        _config[StatusOffset] |= 0x10;
        body.CopyTo(_config.AsSpan(offset + 2));
        writableBody.CopyTo(_writable.AsSpan(offset + 2));
    }

    private void Writable(int offset, int size, uint mask)
    {
        for (int i = 0; i < size; i++) _writable[offset + i] = (byte)(mask >> (8 * i));
    }

    private void W16(int offset, ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(_config.AsSpan(offset), v);

    public ushort Command => BinaryPrimitives.ReadUInt16LittleEndian(_config.AsSpan(CommandOffset));
    public bool BusMasterEnabled => (Command & CommandBusMaster) != 0;

    /// <summary>The memory BARs as (address, size, device) while decoding is enabled.</summary>
    public IEnumerable<(int Index, ulong Address, ulong Size, IMmioDevice Device)> MappedBars()
    {
        if ((Command & CommandMemory) == 0) yield break;
        for (int i = 0; i < 6; i++)
        {
            if (_bars[i].Device is not { } d) continue;
            ulong addr = BinaryPrimitives.ReadUInt32LittleEndian(_config.AsSpan(Bar0 + 4 * i)) & ~0xFUL;
            if (addr != 0) yield return (i, addr, _bars[i].Size, d);
        }
    }

    public uint ReadConfig(int offset, int size)
    {
        if (offset < 0 || offset + size > 256) return size == 4 ? 0xFFFF_FFFF : (1u << (8 * size)) - 1;
        uint v = 0;
        for (int i = 0; i < size; i++) v |= (uint)_config[offset + i] << (8 * i);
        return v;
    }

    public void WriteConfig(int offset, int size, uint value)
    {
        if (offset < 0 || offset + size > 256) return;
        bool intxBefore = IntxAsserted, changed = false;
        for (int i = 0; i < size; i++)
        {
            byte mask = _writable[offset + i];
            byte old = _config[offset + i];
            byte nv = (byte)((old & ~mask) | ((byte)(value >> (8 * i)) & mask));
            _config[offset + i] = nv;
            changed |= nv != old;
        }
        if (changed) ConfigChanged?.Invoke();
        if (IntxAsserted != intxBefore) IntxSink?.Invoke(this, IntxAsserted);   // interrupt-disable toggled
    }
}

/// <summary>The host bridge at 00:00.0 (Intel Q35 MCH identity, as QEMU's q35 machine).</summary>
public sealed class PciHostBridge : PciFunction, KhoEmu.Core.State.IStateful<PciConfigState>
{
    public PciHostBridge() => SetIdentity(0x8086, 0x29C0, 0x06_0000, 0x02);
    public override string Name => "host-bridge";
    public PciConfigState SaveState() => SaveConfig();
    public void ValidateState(PciConfigState state) => ValidateConfig(state);
    public void LoadState(PciConfigState state) => LoadConfig(state);
}
