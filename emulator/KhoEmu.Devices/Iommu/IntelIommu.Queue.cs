using System.Buffers.Binary;

namespace KhoEmu.Devices.Iommu;

/// <summary>
/// Queued invalidation (VT-d 6.5.2): a ring of 128-bit descriptors at IQA (2^(QS+8) entries; 256-bit descriptors need
/// scalable mode, which is not advertised, so IQA.DW is ignored). Enabled with GCMD.QIE; while it is on, register-based
/// invalidation (CCMD, IOTLB) is ignored (6.5: software must use one interface). The unit processes descriptors as
/// soon as software moves IQT, synchronously, so a wait descriptor's status write has landed when the MMIO write
/// returns. A bad descriptor sets FSTS.IQE with its reason in IQERCD and leaves IQH at it; clearing IQE resumes.
/// </summary>
public sealed partial class IntelIommu
{
    /// <summary>IQERCD.IQEI (11.4.9.x): why the queue stopped.</summary>
    public enum QueueErrorInfo : byte
    {
        NotAvailable = 0, InvalidTail = 1, FetchError = 2, InvalidType = 3, ReservedField = 4,
    }

    private ulong _iqa, _iqBase, _iqercd;
    private int _iqEntries, _iqHead, _iqTail;

    public bool QueuedInvalidationEnabled => (_gsts & GcmdQie) != 0;
    public long DescriptorsProcessed { get; private set; }
    public long QueueErrors { get; private set; }
    /// <summary>CCMD/IOTLB register writes ignored because queued invalidation was on.</summary>
    public long IgnoredRegisterInvalidations { get; private set; }

    private void QueueCommand(bool enable)
    {
        if (enable == QueuedInvalidationEnabled) return;
        if (enable)
        {
            _iqBase = _iqa & 0x000F_FFFF_FFFF_F000;
            _iqEntries = 1 << ((int)(_iqa & 7) + 8);
            _gsts |= GcmdQie;
            FetchDescriptors();                                    // a tail written before enabling is honoured
        }
        else
        {
            // Disabling clears IQH (QEMU's behaviour; software disables an empty queue, 6.5.2).
            _gsts &= ~GcmdQie;
            _iqHead = 0;
        }
    }

    private void WriteTail(ulong value)
    {
        _iqTail = (int)((value >> 4) & 0x7FFF);
        FetchDescriptors();
    }

    private void FetchDescriptors()
    {
        if (!QueuedInvalidationEnabled || (_fsts & FstsIqe) != 0) return;
        if (_iqTail >= _iqEntries)
        {
            QueueError(QueueErrorInfo.InvalidTail);
            return;
        }
        Span<byte> d = stackalloc byte[16];
        while (_iqHead != _iqTail)
        {
            if (!_memory.Read(_iqBase + (ulong)_iqHead * 16, d))
            {
                QueueError(QueueErrorInfo.FetchError);
                return;
            }
            var error = Descriptor(BinaryPrimitives.ReadUInt64LittleEndian(d), BinaryPrimitives.ReadUInt64LittleEndian(d[8..]));
            if (error is { } e)
            {
                QueueError(e);
                return;
            }
            DescriptorsProcessed++;
            _iqHead = (_iqHead + 1) % _iqEntries;
        }
    }

    /// <summary>Carries out one descriptor (6.5.2.1-6.5.2.8); null when done, else why it is invalid.</summary>
    private QueueErrorInfo? Descriptor(ulong lo, ulong hi)
    {
        // Type is bits 3:0 with 11:9 as its high part (VT-d 3.0); every legacy-mode type has 11:9 = 0.
        if ((lo & 0xE00) != 0) return QueueErrorInfo.InvalidType;
        switch (lo & 0xF)
        {
            case 1:   // context-cache invalidate: G 5:4, DID 31:16, SID 47:32, FM 49:48
                if ((lo & 0xFFFC_0000_0000_F1C0UL) != 0 || hi != 0) return QueueErrorInfo.ReservedField;
                int cg = (int)((lo >> 4) & 3);
                if (cg == 0) return QueueErrorInfo.ReservedField;
                InvalidateContexts(cg, (ushort)(lo >> 16), (ushort)(lo >> 32), (int)((lo >> 48) & 3));
                return null;
            case 2:   // IOTLB invalidate: G 5:4, DW 6 / DR 7 (drain hints), DID 31:16; ADDR 63:12, IH 6, AM 5:0
                if ((lo & 0xFFFF_FFFF_0000_F100UL) != 0 || (hi & 0xF80) != 0) return QueueErrorInfo.ReservedField;
                int tg = (int)((lo >> 4) & 3);
                int am = (int)(hi & 0x3F);
                if (tg == 0 || (tg == 3 && am > (int)((Capability >> 48) & 0x3F))) return QueueErrorInfo.ReservedField;
                InvalidateIotlb(tg, (ushort)(lo >> 16), hi & ~0xFFFUL, am);
                return null;
            case 4:   // interrupt entry cache invalidate: G 4 (0 global, 1 index), IM 31:27, IIDX 47:32
                if (!Options.InterruptRemapping) return QueueErrorInfo.InvalidType;
                if ((lo & 0xFFFF_0000_07FF_F1E0UL) != 0 || hi != 0) return QueueErrorInfo.ReservedField;
                int im = (int)((lo >> 27) & 0x1F);
                if ((lo & 0x10) != 0 && im > MaxHandleMask) return QueueErrorInfo.ReservedField;
                InvalidateInterruptEntries((lo & 0x10) == 0, (int)((lo >> 32) & 0xFFFF), im);
                return null;
            case 5:   // invalidation wait: IF 4, SW 5, FN 6, PD 7, status data 63:32; status address 63:2
                if ((lo & 0xFFFF_F100UL) != 0 || (hi & 3) != 0) return QueueErrorInfo.ReservedField;
                if ((lo & 0x20) != 0)
                {
                    Span<byte> status = stackalloc byte[4];
                    BinaryPrimitives.WriteUInt32LittleEndian(status, (uint)(lo >> 32));
                    if (!_memory.Write(hi, status)) return QueueErrorInfo.NotAvailable;
                }
                if ((lo & 0x10) != 0) CompletionEvent();
                return null;
            default:  // 3 device-TLB (ECAP.DT is clear), 6-8 PASID-based (scalable mode only), 0 and the rest
                return QueueErrorInfo.InvalidType;
        }
    }

    /// <summary>Context-cache invalidation (CCMD or descriptor): granularity 1 global, 2 domain, 3 device, whose
    /// function mask FM ignores SID bits 2, 2:1 or 2:0 (11.4.4.1).</summary>
    private void InvalidateContexts(int granularity, ushort did, ushort sid, int functionMask)
    {
        if (granularity == 3)
        {
            ushort ignore = (ushort)(functionMask switch { 1 => 4, 2 => 6, 3 => 7, _ => 0 });
            foreach (var k in _contexts.Keys.Where(k => (k & ~ignore) == (sid & ~ignore)).ToList()) _contexts.Remove(k);
        }
        else if (granularity == 2)
        {
            foreach (var k in _contexts.Where(c => c.Value.Domain == did).Select(c => c.Key).ToList()) _contexts.Remove(k);
        }
        else _contexts.Clear();
    }

    /// <summary>IOTLB invalidation: 1 global, 2 domain, 3 page-selective (2^AM pages from the aligned address).</summary>
    private void InvalidateIotlb(int granularity, ushort did, ulong address, int am)
    {
        if (granularity == 3)
        {
            ulong first = (address >> 12) & ~((1UL << am) - 1);
            foreach (var k in _iotlb.Keys.Where(k => k.Domain == did && k.Page >= first && k.Page < first + (1UL << am)).ToList())
                _iotlb.Remove(k);
        }
        else if (granularity == 2)
        {
            foreach (var k in _iotlb.Keys.Where(k => k.Domain == did).ToList()) _iotlb.Remove(k);
        }
        else _iotlb.Clear();
    }
}
