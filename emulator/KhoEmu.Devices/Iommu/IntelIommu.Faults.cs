namespace KhoEmu.Devices.Iommu;

/// <summary>Fault recording (VT-d 7.2.1, primary fault logging with one FRCD) and the two event interrupts (7.3 fault
/// event through FECTL/FEDATA/FEADDR, 6.5.2.9 invalidation completion through IECTL/IEDATA/IEADDR).</summary>
public sealed partial class IntelIommu
{
    // FSTS (11.4.7.1): PFO 0, PPF 1, IQE 4. FECTL/IECTL: IM 31, IP 30.
    private const uint FstsPfo = 1u << 0, FstsPpf = 1u << 1, FstsIqe = 1u << 4;
    private const uint EventMask = 1u << 31, EventPending = 1u << 30;

    private uint _fsts;
    private uint _fectl = EventMask, _fedata, _feaddr, _feuaddr;
    private uint _ics, _iectl = EventMask, _iedata, _ieaddr, _ieuaddr;
    private ulong _frcdLow, _frcdHigh;

    /// <summary>
    /// The unit's own interrupts (fault events, invalidation completion) as (address, data) of a compatibility-format
    /// message: the remapping hardware's interrupts are not themselves remapped (5.1.6).
    /// </summary>
    public Action<ulong, uint>? EventInterrupt { get; set; }

    /// <summary>Fault events and invalidation-completion events sent (interrupts, not counting masked ones).</summary>
    public long FaultEvents { get; private set; }
    public long CompletionEvents { get; private set; }

    /// <summary>A DMA fault: the page address of the request, read or write.</summary>
    private bool RecordFault(ushort sid, ulong iova, bool write, Fault reason) =>
        Record(sid, iova & ~0xFFFUL, write ? 0 : 1UL << 62, reason);

    /// <summary>An interrupt-remapping fault: FI bits 63:48 hold the interrupt index, bits 47:12 are clear, T is 0 (7.1.3).</summary>
    private bool RecordInterruptFault(ushort sid, int index, Fault reason) => Record(sid, (ulong)(ushort)index << 48, 0, reason);

    private bool Record(ushort sid, ulong faultInfo, ulong type, Fault reason)
    {
        FaultCount++;
        if ((_fsts & FstsPfo) != 0) return false;             // overflowed: nothing more is recorded until PFO is cleared
        if ((_frcdHigh >> 63) != 0)
        {
            _fsts |= FstsPfo;                                   // the one record is still pending
            return false;
        }
        uint before = _fsts;
        _frcdLow = faultInfo;
        _frcdHigh = sid | ((ulong)reason << 32) | type | (1UL << 63);
        _fsts |= FstsPpf;                                       // FRI stays 0: there is one record
        FaultEvent(before);
        return false;
    }

    /// <summary>Invalidation queue error: IQE with its reason in IQERCD (6.5.2.10); the queue stops at IQH.</summary>
    private void QueueError(QueueErrorInfo info)
    {
        uint before = _fsts;
        _fsts |= FstsIqe;
        _iqercd = (ulong)info;
        QueueErrors++;
        FaultEvent(before);
    }

    /// <summary>A fault event is signalled only when no fault condition was already pending (7.3.1).</summary>
    private void FaultEvent(uint fstsBefore)
    {
        if ((fstsBefore & (FstsPfo | FstsPpf | FstsIqe)) != 0) return;
        _fectl |= EventPending;
        SendIfUnmasked(ref _fectl, _feuaddr, _feaddr, _fedata, completion: false);
    }

    /// <summary>Invalidation wait with IF: sets ICS.IWC and signals a completion event unless one is outstanding.</summary>
    private void CompletionEvent()
    {
        if ((_ics & 1) != 0) return;
        _ics |= 1;
        _iectl |= EventPending;
        SendIfUnmasked(ref _iectl, _ieuaddr, _ieaddr, _iedata, completion: true);
    }

    private void SendIfUnmasked(ref uint control, uint upper, uint address, uint data, bool completion)
    {
        if ((control & EventMask) != 0 || (control & EventPending) == 0) return;
        control &= ~EventPending;
        if (completion) CompletionEvents++; else FaultEvents++;
        EventInterrupt?.Invoke(((ulong)upper << 32) | (address & ~3u), data & 0xFFFF);
    }

    private void WriteFsts(uint value)
    {
        _fsts &= ~(value & (FstsPfo | FstsPpf | FstsIqe));    // RW1C
        if ((_fsts & (FstsPfo | FstsPpf | FstsIqe)) == 0) _fectl &= ~EventPending;
        if ((value & FstsIqe) != 0) FetchDescriptors();         // the queue resumes at IQH once IQE is clear
    }

    private void WriteFectl(uint value)
    {
        _fectl = (value & EventMask) | (_fectl & EventPending);
        SendIfUnmasked(ref _fectl, _feuaddr, _feaddr, _fedata, completion: false);
    }

    private void WriteIcs(uint value)
    {
        _ics &= ~(value & 1);
        if ((_ics & 1) == 0) _iectl &= ~EventPending;
    }

    private void WriteIectl(uint value)
    {
        _iectl = (value & EventMask) | (_iectl & EventPending);
        SendIfUnmasked(ref _iectl, _ieuaddr, _ieaddr, _iedata, completion: true);
    }

    private void ClearFaultRecord()
    {
        _frcdHigh &= ~(1UL << 63);
        _fsts &= ~FstsPpf;
        if ((_fsts & (FstsPfo | FstsPpf | FstsIqe)) == 0) _fectl &= ~EventPending;
    }
}
