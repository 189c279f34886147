using System.Buffers.Binary;
using KhoEmu.Core;

namespace KhoEmu.Devices.Pci;

/// <summary>
/// KhoEmu's continuous DMA engine, a VFIO-style device for live-update testing. Once started it writes a 16-byte
/// record {u64 sequence; u64 virtual time in ns} into a ring of guest I/O virtual addresses on every tick,
/// independently of the CPU, so DMA provably keeps flowing while the guest kexecs. A write the IOMMU refuses is
/// counted as faulted and lost (its sequence number is skipped, which shows as a gap in the ring).
/// BAR0 (4 KiB), little-endian: 0x00 id 0x4B450D4A; 0x08 ring IOVA (64-bit); 0x10 ring entries; 0x14 tick interval
/// in ns; 0x18 control (bit 0 run); 0x1C status (bit 0 running); 0x20 next sequence (64-bit, writable while
/// stopped); 0x28 records written; 0x30 faulted writes; 0x38 lost records; 0x40 IOVA of the last fault.
/// PCI 4b45:0d4a, class 0x088000 (system peripheral).
/// </summary>
public sealed partial class DmaEngine : PciFunction, IMmioDevice
{
    public const uint Id = 0x4B45_0D4A;
    public const ulong DefaultInterval = 20_000;
    private readonly VirtualClock _clock;
    private IGuestMemory? _dma;
    private readonly ClockTimer _tick;
    private bool _running;
    private ulong _ring, _next, _written, _faults, _lost, _lastFault;
    private uint _entries, _interval = (uint)DefaultInterval;

    /// <param name="timerName">The clock timer of the engine's ticks (<c>dma-engine.tick</c>).</param>
    public DmaEngine(VirtualClock clock, string timerName = "dma-engine.tick")
    {
        _clock = clock;
        _tick = clock.CreateTimer(timerName, Tick);
        SetIdentity(0x4B45, 0x0D4A, 0x08_8000, 0x01);
        AddMemoryBar(0, 4096, this);
    }

    public override string Name => "dma-engine";
    public void ConnectDma(IGuestMemory dma) => _dma = dma;
    public bool Running => _running;
    public ulong Written => _written;
    public ulong Faults => _faults;
    public ulong NextSequence => _next;
    /// <summary>Every record the engine attempted, for the host-side checks: (sequence, IOVA, accepted).</summary>
    public List<(ulong Sequence, ulong Iova, bool Ok)> Log { get; } = [];
    public bool KeepLog { get; set; }

    public ulong ReadMmio(ulong offset, int size)
    {
        ulong v = offset switch
        {
            0x00 => Id,
            0x08 => _ring,
            0x10 => _entries,
            0x14 => _interval,
            0x18 => Running ? 1UL : 0,
            0x1C => Running ? 1UL : 0,
            0x20 => _next,
            0x28 => _written,
            0x30 => _faults,
            0x38 => _lost,
            0x40 => _lastFault,
            0x0C or 0x24 or 0x2C or 0x34 or 0x3C or 0x44 => ReadMmio(offset - 4, 8) >> 32,
            _ => 0,
        };
        return size == 8 ? v : v & ((1UL << (8 * size)) - 1);
    }

    public void WriteMmio(ulong offset, int size, ulong value)
    {
        switch (offset)
        {
            case 0x08: _ring = size == 8 ? value : (_ring & ~0xFFFF_FFFFUL) | (uint)value; break;
            case 0x0C: _ring = (_ring & 0xFFFF_FFFF) | (value << 32); break;
            case 0x10: if (!Running) _entries = (uint)value; break;
            case 0x14: _interval = (uint)Math.Max(1000, value); break;
            case 0x18:
                if ((value & 1) != 0 && !Running && _entries > 0)
                {
                    _running = true;
                    _tick.Arm(_clock.Now + _interval);
                }
                else if ((value & 1) == 0 && Running)
                {
                    _running = false;
                    _tick.Cancel();
                }
                break;
            case 0x20: if (!Running) _next = size == 8 ? value : (_next & ~0xFFFF_FFFFUL) | (uint)value; break;
            case 0x24: if (!Running) _next = (_next & 0xFFFF_FFFF) | (value << 32); break;
        }
    }

    private void Tick()
    {
        ulong seq = _next++;
        ulong iova = _ring + (seq % _entries) * 16;
        Span<byte> record = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(record, seq);
        BinaryPrimitives.WriteUInt64LittleEndian(record[8..], _clock.Now);
        bool ok = _dma is not null && BusMasterEnabled && _dma.Write(iova, record);
        if (ok) _written++;
        else
        {
            _faults++;
            _lost++;
            _lastFault = iova;
        }
        if (KeepLog) Log.Add((seq, iova, ok));
        if (_running && !_tick.IsArmed) _tick.Arm(_clock.Now + _interval);
    }
}
