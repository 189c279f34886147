using KhoEmu.Core;

namespace KhoEmu.Devices.Pci;

/// <summary>
/// QEMU's educational PCI device (QEMU docs/specs/edu.rst): 1234:11e8 rev 0x10, BAR0 1 MiB, identification, liveness,
/// factorial, interrupt raise/ack, and a DMA engine between guest memory and a 4 KiB buffer at device address
/// 0x40000, with addresses masked to 28 bits as QEMU does. DMA goes through the machine's IOMMU (the device only sees
/// its <see cref="IGuestMemory"/>) and completes after <see cref="DmaDelay"/> of virtual time. Interrupts are MSI
/// (capability at 0x40) when the guest enables it, else level-triggered INTA (asserted while the interrupt status
/// register is non-zero). As QEMU's model: accesses narrower than 4 bytes are refused (reads see 0), a command
/// write without the run bit is ignored, and register writes are ignored while a transfer runs.
/// </summary>
public sealed partial class EduDevice : PciFunction, IMmioDevice
{
    public const ulong BufferAddress = 0x40000, BufferSize = 4096, DmaMask = (1UL << 28) - 1;
    public const ulong DmaDelay = 10_000;               // ns of virtual time (QEMU: a 100 ms timer)
    private readonly VirtualClock _clock;
    private readonly byte[] _buffer = new byte[BufferSize];
    private uint _liveness, _factorial, _status, _irqStatus;
    private ulong _dmaSrc, _dmaDst, _dmaCount, _dmaCmd;
    private IGuestMemory? _dma;

    private readonly ClockTimer _dmaTimer;

    /// <param name="timerName">The clock timer of a DMA transfer's completion (<c>edu.dma</c>).</param>
    public EduDevice(VirtualClock clock, string timerName = "edu.dma")
    {
        _clock = clock;
        _dmaTimer = clock.CreateTimer(timerName, CompleteDma);
        SetIdentity(0x1234, 0x11E8, 0x00FF_0000, 0x10);
        SetInterruptPin(1);
        AddMemoryBar(0, 1 << 20, this);
        AddMsiCapability(0x40);
    }

    public override string Name => "edu";
    public void ConnectDma(IGuestMemory dma) => _dma = dma;
    public long DmaTransfers { get; private set; }
    public long DmaFailures { get; private set; }

    public ulong ReadMmio(ulong offset, int size)
    {
        if (size < 4) return 0;
        if (offset < 0x80 && size != 4) return ulong.MaxValue;
        return offset switch
        {
            0x00 => 0x010000ED,
            0x04 => ~_liveness,
            0x08 => _factorial,
            0x20 => _status,
            0x24 => _irqStatus,
            0x80 => _dmaSrc,
            0x88 => _dmaDst,
            0x90 => _dmaCount,
            0x98 => _dmaCmd,
            _ => ulong.MaxValue,
        } & (size == 8 ? ulong.MaxValue : 0xFFFF_FFFF);
    }

    public void WriteMmio(ulong offset, int size, ulong value)
    {
        if (size < 4 || (offset < 0x80 && size != 4)) return;
        switch (offset)
        {
            case 0x04: _liveness = (uint)value; break;
            case 0x08:
                if ((_status & 1) != 0) break;
                _status |= 1;
                // n! mod 2^32: from 34! on there are at least 32 factors of two, so the product is 0. Stopping there
                // keeps a guest that writes 0xFFFFFFFF from holding the host in a four-billion-step loop.
                uint n = (uint)value, f = n >= 34 ? 0u : 1u;
                for (uint i = 2; i <= n && i < 34; i++) f *= i;
                _factorial = f;
                _status &= ~1u;
                if ((_status & 0x80) != 0) Raise(0x1);
                break;
            case 0x20: _status = (_status & 1) | ((uint)value & 0x80); break;
            case 0x60: Raise((uint)value); break;
            case 0x64:
                _irqStatus &= ~(uint)value;
                if (_irqStatus == 0 && !MsiEnabled) SetIntx(false);
                break;
            case 0x80: if ((_dmaCmd & 1) == 0) _dmaSrc = size == 8 ? value : (uint)value; break;   // ignored while running, as QEMU
            case 0x88: if ((_dmaCmd & 1) == 0) _dmaDst = size == 8 ? value : (uint)value; break;
            case 0x90: if ((_dmaCmd & 1) == 0) _dmaCount = size == 8 ? value : (uint)value; break;
            case 0x98:
                if ((_dmaCmd & 1) != 0 || (value & 1) == 0) break;   // in flight, or no run bit: ignored
                _dmaCmd = value;
                _dmaTimer.Arm(_clock.Now + DmaDelay);
                break;
        }
    }

    private void Raise(uint bits)
    {
        _irqStatus |= bits;
        if (_irqStatus != 0 && !RaiseMsi()) SetIntx(true);
    }

    private void CompleteDma()
    {
        bool toRam = (_dmaCmd & 2) != 0;
        ulong src = _dmaSrc & DmaMask, dst = _dmaDst & DmaMask, count = _dmaCount;
        ulong devAddr = toRam ? src : dst, ramAddr = toRam ? dst : src;
        bool ok = _dma is not null && BusMasterEnabled && devAddr >= BufferAddress && count <= BufferSize
            && devAddr - BufferAddress <= BufferSize - count;
        if (ok)
        {
            var window = _buffer.AsSpan((int)(devAddr - BufferAddress), (int)count);
            ok = toRam ? _dma!.Write(ramAddr, window) : _dma!.Read(ramAddr, window);
        }
        if (ok) DmaTransfers++; else DmaFailures++;
        _dmaCmd &= ~1UL;
        if ((_dmaCmd & 4) != 0) Raise(0x100);
    }
}
