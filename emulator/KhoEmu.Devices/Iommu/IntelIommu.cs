using System.Buffers.Binary;
using KhoEmu.Core;
using KhoEmu.Memory;

namespace KhoEmu.Devices.Iommu;

/// <summary>
/// An Intel VT-d remapping unit (Intel VT-d specification rev. 3; register layout as QEMU's intel-iommu), legacy
/// (non-scalable) mode: GCMD/GSTS, RTADDR, root and context tables, second-level page tables of 3 levels (39-bit) or
/// 4 levels (48-bit) with 4 KiB, 2 MiB and 1 GiB pages and read/write permission, context-cache and IOTLB
/// invalidation through registers (CCMD, IOTLB + IVA) or the invalidation queue (6.5: IQA/IQH/IQT, wait descriptors
/// with status write and completion interrupt), one fault-recording register (FRCD at 0x220) with FSTS and the fault
/// event interrupt, and, with <see cref="IntelIommuOptions.InterruptRemapping"/>, interrupt remapping (ch. 5: IRTA,
/// IRTEs, the interrupt entry cache). Devices get their DMA view from <see cref="ForDevice"/>: translation is
/// invisible to them; a blocked access records a fault and moves no byte. Interrupt requests go through
/// <see cref="RemapInterrupt"/>. Split by concern: Registers, Queue (queued invalidation), Interrupts (remapping),
/// Faults (recording and event interrupts).
/// </summary>
public sealed partial class IntelIommu : IMmioDevice, KhoEmu.Core.State.IStateful<IntelIommuState>
{
    public const ulong Version = 0x10;
    // CAP (11.4.2): ND=6 (bits 2:0), SAGAW=0x6 (39- and 48-bit, bits 12:8), MGAW=47 (bits 21:16), FRO=0x22 (x16 = 0x220,
    // bits 33:24), SLLPS 2M|1G (bits 35:34), PSI (bit 39), MAMV=9 (bits 53:48), NFR=0 (one record, bits 47:40).
    public const ulong Capability = 6UL | (0x6UL << 8) | (47UL << 16) | (0x22UL << 24) | (0x3UL << 34) | (1UL << 39) | (9UL << 48);
    // ECAP (11.4.3): QI (bit 1) always, as QEMU's; IRO = 0xF (bits 17:8, x16: IVA at 0xF0, IOTLB at 0xF8). IR (bit 3)
    // and MHMV = 0xF (bits 23:20) only with interrupt remapping. No DT, EIM (no x2APIC), PT or scalable mode.
    public const ulong EcapQi = 1UL << 1, EcapIr = 1UL << 3, EcapIro = 0xFUL << 8, EcapMhmv = 0xFUL << 20;
    public const int FaultRecordOffset = 0x220;
    public const int MaxHandleMask = 0xF;
    // GCMD/GSTS bits (11.4.4/11.4.5): persistent TE, QIE, IRE, CFI; one-shot SRTP, SIRTP.
    public const uint GcmdTe = 1u << 31, GcmdSrtp = 1u << 30, GcmdQie = 1u << 26, GcmdIre = 1u << 25, GcmdSirtp = 1u << 24, GcmdCfi = 1u << 23;

    public enum Fault : byte
    {
        RootNotPresent = 0x1, ContextNotPresent = 0x2, ContextInvalid = 0x3, BeyondAddressWidth = 0x4,
        WriteDenied = 0x5, ReadDenied = 0x6, PageTableUnreadable = 0x7, RootUnreadable = 0x8, ContextUnreadable = 0x9,
        NonZeroReserved = 0xA,
        // Interrupt-remapping fault conditions (7.1.3, table "Interrupt Remapping Fault Conditions").
        IrRequestReserved = 0x20, IrIndexBeyondTable = 0x21, IrEntryNotPresent = 0x22, IrEntryUnreadable = 0x23,
        IrEntryReserved = 0x24, IrCompatibilityBlocked = 0x25, IrSourceIdInvalid = 0x26,
    }

    private readonly PhysicalMemory _memory;
    private uint _gsts;
    private ulong _rtaddr, _rootTable;
    private ulong _iva, _iotlbReg, _ccmd;

    // IOTLB: (domain, iova page) -> (phys page, writable, readable, page size). Context cache: source id -> context.
    private readonly Dictionary<(ushort Domain, ulong Page), (ulong Phys, bool Read, bool Write, int Shift)> _iotlb = [];
    private readonly Dictionary<ushort, (bool Present, ushort Domain, ulong Root, int Levels, bool PassThrough)> _contexts = [];

    public IntelIommu(PhysicalMemory memory, IntelIommuOptions? options = null)
    {
        _memory = memory;
        Options = options ?? new IntelIommuOptions();
        ExtendedCapability = EcapQi | EcapIro | (Options.InterruptRemapping ? EcapIr | EcapMhmv : 0);
    }

    public IntelIommuOptions Options { get; }
    /// <summary>The ECAP register's value: what this unit advertises with its options.</summary>
    public ulong ExtendedCapability { get; }

    public bool TranslationEnabled => (_gsts & GcmdTe) != 0;
    public long FaultCount { get; private set; }
    public long IotlbHits { get; private set; }
    public long IotlbMisses { get; private set; }
    public long BlockedBytes { get; private set; }
    /// <summary>Every DMA write that reached memory: (source id, IOVA, physical address, length), one call per page piece.</summary>
    public Action<ushort, ulong, ulong, int>? DmaWritten { get; set; }

    /// <summary>The DMA view of the device with PCI source id <paramref name="sourceId"/>.</summary>
    public IGuestMemory ForDevice(ushort sourceId) => new DeviceView(this, sourceId);

    private sealed class DeviceView(IntelIommu iommu, ushort sourceId) : IGuestMemory
    {
        public bool Read(ulong address, Span<byte> destination) => iommu.Dma(sourceId, address, destination, default, write: false);
        public bool Write(ulong address, ReadOnlySpan<byte> source) => iommu.Dma(sourceId, address, default, source, write: true);
    }

    private bool Dma(ushort sid, ulong iova, Span<byte> readInto, ReadOnlySpan<byte> writeFrom, bool write)
    {
        int length = write ? writeFrom.Length : readInto.Length;
        // Translate every page first: a transfer that faults anywhere moves nothing.
        Span<(ulong Phys, int Len)> pieces = stackalloc (ulong, int)[Math.Min(64, (length >> 12) + 2)];
        int n = 0;
        for (int done = 0; done < length;)
        {
            ulong a = iova + (ulong)done;
            int chunk = (int)Math.Min((ulong)(length - done), 4096 - (a & 0xFFF));
            if (!Translate(sid, a, write, out ulong pa))
            {
                BlockedBytes += length;
                return false;
            }
            if (n == pieces.Length) return DmaSlow(sid, iova, readInto, writeFrom, write);
            pieces[n++] = (pa, chunk);
            done += chunk;
        }
        int off = 0;
        for (int i = 0; i < n; i++)
        {
            var (pa, len) = pieces[i];
            bool ok = write ? _memory.Write(pa, writeFrom.Slice(off, len)) : _memory.Read(pa, readInto.Slice(off, len));
            if (!ok) return false;
            if (write) DmaWritten?.Invoke(sid, iova + (ulong)off, pa, len);
            off += len;
        }
        return true;
    }

    private bool DmaSlow(ushort sid, ulong iova, Span<byte> readInto, ReadOnlySpan<byte> writeFrom, bool write)
    {
        int length = write ? writeFrom.Length : readInto.Length;
        for (int done = 0; done < length;)
        {
            ulong a = iova + (ulong)done;
            int chunk = (int)Math.Min((ulong)(length - done), 4096 - (a & 0xFFF));
            if (!Translate(sid, a, write, out ulong pa)) return false;
            bool ok = write ? _memory.Write(pa, writeFrom.Slice(done, chunk)) : _memory.Read(pa, readInto.Slice(done, chunk));
            if (!ok) return false;
            if (write) DmaWritten?.Invoke(sid, a, pa, chunk);
            done += chunk;
        }
        return true;
    }

    /// <summary>Translates one access; records a fault and returns false when it is not allowed.</summary>
    public bool Translate(ushort sid, ulong iova, bool write, out ulong phys)
    {
        phys = iova;
        if (!TranslationEnabled) return true;   // DMA remapping off: addresses are physical
        if (!LookupContext(sid, out var ctx, out Fault cf)) return RecordFault(sid, iova, write, cf);
        if (ctx.PassThrough) return true;
        ulong page = iova >> 12;
        if (_iotlb.TryGetValue((ctx.Domain, page), out var hit))
        {
            IotlbHits++;
            if (write ? !hit.Write : !hit.Read) return RecordFault(sid, iova, write, write ? Fault.WriteDenied : Fault.ReadDenied);
            phys = hit.Phys | (iova & 0xFFF);
            return true;
        }
        IotlbMisses++;
        int width = ctx.Levels == 4 ? 48 : 39;
        if ((iova >> width) != 0) return RecordFault(sid, iova, write, Fault.BeyondAddressWidth);
        ulong table = ctx.Root;
        bool r = true, w = true;
        for (int level = ctx.Levels; level >= 1; level--)
        {
            int shift = 12 + 9 * (level - 1);
            ulong entryAddr = table + ((iova >> shift) & 511) * 8;
            if (!ReadU64(entryAddr, out ulong e)) return RecordFault(sid, iova, write, Fault.PageTableUnreadable);
            bool er = (e & 1) != 0, ew = (e & 2) != 0;
            if (!er && !ew) return RecordFault(sid, iova, write, write ? Fault.WriteDenied : Fault.ReadDenied);
            r &= er;
            w &= ew;
            bool large = level is 2 or 3 && (e & 0x80) != 0;
            if (level == 1 || large)
            {
                ulong mask = (1UL << shift) - 1;
                ulong frame = e & 0x000F_FFFF_FFFF_F000 & ~mask;
                ulong pa = frame | (iova & mask);
                _iotlb[(ctx.Domain, page)] = (pa & ~0xFFFUL, r, w, shift);
                if (write ? !w : !r) return RecordFault(sid, iova, write, write ? Fault.WriteDenied : Fault.ReadDenied);
                phys = pa;
                return true;
            }
            table = e & 0x000F_FFFF_FFFF_F000;
        }
        return RecordFault(sid, iova, write, Fault.PageTableUnreadable);
    }

    /// <summary>
    /// What the guest's tables say right now, ignoring the context cache and the IOTLB and recording nothing: the
    /// physical address <paramref name="iova"/> maps to for <paramref name="sid"/> and whether it is writeable. False
    /// when translation is off, the device is pass-through, or nothing maps the address. For checkers, not devices.
    /// </summary>
    public bool WalkTables(ushort sid, ulong iova, out ulong phys, out bool writable)
    {
        phys = 0;
        writable = false;
        if (!TranslationEnabled || !ReadU64(_rootTable + (ulong)(sid >> 8) * 16, out ulong root) || (root & 1) == 0) return false;
        ulong ctxAddr = (root & 0x000F_FFFF_FFFF_F000) + (ulong)(sid & 0xFF) * 16;
        if (!ReadU64(ctxAddr, out ulong lo) || !ReadU64(ctxAddr + 8, out ulong hi) || (lo & 1) == 0 || ((lo >> 2) & 3) != 0) return false;
        int levels = (hi & 7) switch { 1 => 3, 2 => 4, _ => 0 };
        if (levels == 0 || (iova >> (levels == 4 ? 48 : 39)) != 0) return false;
        ulong table = lo & 0x000F_FFFF_FFFF_F000;
        bool w = true;
        for (int level = levels; level >= 1; level--)
        {
            int shift = 12 + 9 * (level - 1);
            if (!ReadU64(table + ((iova >> shift) & 511) * 8, out ulong e) || (e & 3) == 0) return false;
            w &= (e & 2) != 0;
            if (level == 1 || (level is 2 or 3 && (e & 0x80) != 0))
            {
                ulong mask = (1UL << shift) - 1;
                phys = (e & 0x000F_FFFF_FFFF_F000 & ~mask) | (iova & mask);
                writable = w;
                return true;
            }
            table = e & 0x000F_FFFF_FFFF_F000;
        }
        return false;
    }

    private bool ReadU64(ulong pa, out ulong v)
    {
        Span<byte> b = stackalloc byte[8];
        bool ok = _memory.Read(pa, b);
        v = BinaryPrimitives.ReadUInt64LittleEndian(b);
        return ok;
    }

    private bool LookupContext(ushort sid, out (bool Present, ushort Domain, ulong Root, int Levels, bool PassThrough) ctx, out Fault fault)
    {
        fault = 0;
        if (_contexts.TryGetValue(sid, out ctx)) return ctx.Present || Fail(out fault, Fault.ContextNotPresent);
        ctx = default;
        if (!ReadU64(_rootTable + (ulong)(sid >> 8) * 16, out ulong root)) return Fail(out fault, Fault.RootUnreadable);
        if ((root & 1) == 0) return Fail(out fault, Fault.RootNotPresent);
        ulong ctxAddr = (root & 0x000F_FFFF_FFFF_F000) + (ulong)(sid & 0xFF) * 16;
        if (!ReadU64(ctxAddr, out ulong lo) || !ReadU64(ctxAddr + 8, out ulong hi)) return Fail(out fault, Fault.ContextUnreadable);
        if ((lo & 1) == 0) return Fail(out fault, Fault.ContextNotPresent);
        int tt = (int)((lo >> 2) & 3);
        int aw = (int)(hi & 7);
        if (tt == 1 || tt == 3 || (tt == 0 && aw is not (1 or 2))) return Fail(out fault, Fault.ContextInvalid);
        ctx = (true, (ushort)(hi >> 8), lo & 0x000F_FFFF_FFFF_F000, aw == 2 ? 4 : 3, tt == 2);
        _contexts[sid] = ctx;   // context cache: valid until a context-cache invalidation
        return true;
    }

    private static bool Fail(out Fault f, Fault v)
    {
        f = v;
        return false;
    }

    /// <summary>Status for the monitor/tests: cached translations.</summary>
    public int IotlbEntries => _iotlb.Count;
}
