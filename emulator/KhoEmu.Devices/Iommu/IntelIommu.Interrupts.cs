using System.Buffers.Binary;
using KhoEmu.Devices.Interrupts;

namespace KhoEmu.Devices.Iommu;

/// <summary>
/// Interrupt remapping (VT-d ch. 5, IRTE format 9.10), xAPIC mode only (ECAP.EIM is clear: there is no x2APIC).
/// IRTA (11.4.8.x) gives the table (2^(S+1) 128-bit entries); GCMD.SIRTP latches it, GCMD.IRE turns remapping on and
/// GCMD.CFI lets compatibility-format requests through (otherwise they fault with 0x25). A remappable request
/// (address bit 4) carries handle[14:0] in address bits 19:5, handle[15] in bit 2 and SHV in bit 3; with SHV the
/// data's low 16 bits are a subhandle added to the handle (5.1.2.2). Present IRTEs are cached in the interrupt entry
/// cache until an interrupt-entry-cache invalidation descriptor drops them (6.5.2.7), as hardware may cache them.
/// </summary>
public sealed partial class IntelIommu
{
    private ulong _irta, _irtBase;
    private int _irtEntries;
    private readonly Dictionary<int, (ulong Low, ulong High)> _interruptEntries = [];

    public bool InterruptRemappingEnabled => (_gsts & GcmdIre) != 0;
    public long InterruptsRemapped { get; private set; }
    public long InterruptsBlocked { get; private set; }
    /// <summary>Interrupt entry cache size, for tests.</summary>
    public int CachedInterruptEntries => _interruptEntries.Count;

    private void SetInterruptRemapTable()
    {
        _irtBase = _irta & 0x000F_FFFF_FFFF_F000;
        _irtEntries = 2 << (int)(_irta & 0xF);
        _gsts |= GcmdSirtp;
    }

    private void InvalidateInterruptEntries(bool global, int index, int indexMask)
    {
        if (global)
        {
            _interruptEntries.Clear();
            return;
        }
        int first = index & ~((1 << indexMask) - 1);
        for (int i = first; i < first + (1 << indexMask); i++) _interruptEntries.Remove(i);
    }

    /// <summary>
    /// An interrupt request (a DWORD write of <paramref name="data"/> to <paramref name="address"/> in 0xFEExxxxx) from
    /// source <paramref name="sid"/>: with remapping off it passes as a compatibility-format message; with it on it is
    /// translated through its IRTE, or blocked with the fault recorded (false).
    /// </summary>
    public bool RemapInterrupt(ushort sid, ulong address, uint data, out InterruptMessage message)
    {
        message = default;
        if (!InterruptRemappingEnabled)
        {
            message = InterruptMessage.FromMsi(address, data);
            return true;
        }
        if ((address & 0x10) == 0)
        {
            // Compatibility format: through only while GSTS.CFIS is set (in xAPIC mode; EIME would block them all).
            if ((_gsts & GcmdCfi) != 0)
            {
                message = InterruptMessage.FromMsi(address, data);
                return true;
            }
            return Blocked(sid, 0, Fault.IrCompatibilityBlocked);
        }
        int handle = (int)((address >> 5) & 0x7FFF) | (int)((address >> 2) & 1) << 15;
        int index = handle;
        if ((address & 0x8) != 0)
        {
            if ((data >> 16) != 0) return Blocked(sid, handle, Fault.IrRequestReserved);
            index = handle + (int)(data & 0xFFFF);
        }
        if (index >= _irtEntries) return Blocked(sid, index, Fault.IrIndexBeyondTable);
        if (!_interruptEntries.TryGetValue(index, out var irte))
        {
            Span<byte> b = stackalloc byte[16];
            if (!_memory.Read(_irtBase + (ulong)index * 16, b)) return Blocked(sid, index, Fault.IrEntryUnreadable);
            irte = (BinaryPrimitives.ReadUInt64LittleEndian(b), BinaryPrimitives.ReadUInt64LittleEndian(b[8..]));
            if ((irte.Low & 1) != 0) _interruptEntries[index] = irte;
        }
        var (lo, hi) = irte;
        bool fpd = (lo & 2) != 0;                          // fault processing disable: qualified faults go unrecorded
        if ((lo & 1) == 0) return Blocked(sid, index, Fault.IrEntryNotPresent, fpd);
        // Reserved in xAPIC mode: 14:12, 15 (IM: posted interrupts are not supported), 31:24, destination 39:32 and
        // 63:48; 127:84; delivery modes 3 and 6.
        const ulong ReservedLow = (7UL << 12) | (1UL << 15) | (0xFFUL << 24) | (0xFFUL << 32) | (0xFFFFUL << 48);
        int mode = (int)((lo >> 5) & 7);
        if ((lo & ReservedLow) != 0 || (hi >> 20) != 0 || mode is 3 or 6) return Blocked(sid, index, Fault.IrEntryReserved, fpd);
        if (!SourceIdValid(sid, hi)) return Blocked(sid, index, Fault.IrSourceIdInvalid, fpd);
        message = new InterruptMessage((byte)(lo >> 16), (byte)mode, (lo & 0x10) != 0, (uint)(lo >> 40) & 0xFF, (lo & 4) != 0, (lo & 8) != 0);
        InterruptsRemapped++;
        return true;
    }

    /// <summary>SID/SQ/SVT (9.10): SVT 0 no check, 1 compare the requester id ignoring the SQ-selected function bits,
    /// 2 the requester's bus within [SID 15:8, SID 7:0], 3 reserved (fails).</summary>
    private static bool SourceIdValid(ushort sid, ulong hi)
    {
        ushort expected = (ushort)hi;
        switch ((int)((hi >> 18) & 3))
        {
            case 0: return true;
            case 1:
                ushort mask = (ushort)(((hi >> 16) & 3) switch { 0 => 0xFFFF, 1 => 0xFFFB, 2 => 0xFFF9, _ => 0xFFF8 });
                return (sid & mask) == (expected & mask);
            case 2:
                int bus = sid >> 8;
                return bus >= expected >> 8 && bus <= (expected & 0xFF);
            default: return false;
        }
    }

    private bool Blocked(ushort sid, int index, Fault reason, bool faultProcessingDisabled = false)
    {
        InterruptsBlocked++;
        return faultProcessingDisabled ? false : RecordInterruptFault(sid, index, reason);
    }
}
