using System.Runtime.CompilerServices;
using KhoEmu.Cpu.Mmu;
using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu;

internal enum AccessKind { Read, Write, Execute }

/// <summary>
/// Linear-to-physical translation (Intel SDM vol. 3, chapter 4): no paging, 32-bit, PAE and 4-level paging with
/// 4 KiB, 2/4 MiB and 1 GiB pages, NX, WP and user/supervisor checks, accessed/dirty bits, and a direct-mapped TLB per
/// privilege class. Every guest memory access goes through here.
/// </summary>
public sealed unsafe partial class Cpu
{
    private const int TlbBits = 12;
    private const int TlbMask = (1 << TlbBits) - 1;
    private const ulong PhysAddrMask = 0x000F_FFFF_FFFF_F000;
    /// <summary>Entry bits 51:M, M = MAXPHYADDR = 40 (CPUID 8000_0008h): reserved in every PAE/4-level entry.</summary>
    private const ulong AboveMaxPhysAddr = 0x000F_FF00_0000_0000;
    /// <summary>Reserved bits of a 2 MiB page entry (20:13) and of a 1 GiB page entry (29:13); bit 12 is PAT.</summary>
    private const ulong Reserved2M = 0x1F_E000, Reserved1G = 0x3FFF_E000;
    private const int ErrorRsvd = 1 << 3;

    private readonly TlbEntry[] _tlbSupervisor = new TlbEntry[1 << TlbBits];
    private readonly TlbEntry[] _tlbUser = new TlbEntry[1 << TlbBits];
    private TlbEntry[] _tlb = null!;

    /// <summary>Drops every cached translation (MOV CR3, CR0/CR4 paging changes).</summary>
    public void FlushTlb()
    {
        Array.Clear(_tlbSupervisor);
        Array.Clear(_tlbUser);
        _tlb = Cpl == 3 ? _tlbUser : _tlbSupervisor;
        _exitBlock = true;
    }

    /// <summary>INVLPG: drops the translation of one linear page.</summary>
    internal void FlushTlbPage(ulong la)
    {
        int i = (int)(la >> 12) & TlbMask;
        _tlbSupervisor[i] = default;
        _tlbUser[i] = default;
    }

    /// <summary>Drops write permission from every cached translation (a page just became a code page).</summary>
    internal void FlushTlbWrites()
    {
        for (int i = 0; i < _tlbSupervisor.Length; i++)
        {
            _tlbSupervisor[i].WriteTag = 0;
            _tlbUser[i].WriteTag = 0;
        }
    }

    internal void SetCpl(int cpl)
    {
        Cpl = cpl;
        _tlb = cpl == 3 ? _tlbUser : _tlbSupervisor;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong Linear(int seg, ulong ea)
    {
        if (Is64) return seg >= SegReg.FS ? ea + Seg[seg].Base : ea;
        return (uint)(ea + Seg[seg].Base);
    }

    // ---- accesses by segment:offset ------------------------------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong Read(int seg, ulong ea, int size) => ReadLinear(Linear(seg, ea), size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Write(int seg, ulong ea, int size, ulong value) => WriteLinear(Linear(seg, ea), size, value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong ReadLinear(ulong la, int size)
    {
        ref TlbEntry e = ref _tlb[(int)(la >> 12) & TlbMask];
        uint off = (uint)la & 0xFFF;
        if (e.ReadTag == ((la & ~0xFFFUL) | 1) && e.Host != 0 && off + (uint)size <= 4096)
        {
            byte* p = (byte*)e.Host + off;
            return size switch { 8 => *(ulong*)p, 4 => *(uint*)p, 2 => *(ushort*)p, _ => *p };
        }
        return ReadLinearSlow(la, size);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void WriteLinear(ulong la, int size, ulong value)
    {
        ref TlbEntry e = ref _tlb[(int)(la >> 12) & TlbMask];
        uint off = (uint)la & 0xFFF;
        if (e.WriteTag == ((la & ~0xFFFUL) | 1) && off + (uint)size <= 4096)
        {
            byte* p = (byte*)e.Host + off;
            switch (size)
            {
                case 8: *(ulong*)p = value; break;
                case 4: *(uint*)p = (uint)value; break;
                case 2: *(ushort*)p = (ushort)value; break;
                default: *p = (byte)value; break;
            }
            return;
        }
        WriteLinearSlow(la, size, value);
    }

    /// <summary>Checks that [la, la+size) is writable without writing (read-modify-write and multi-part stores).</summary>
    internal bool ProbeWrite(ulong la, int size)
    {
        if (!Translate(la, AccessKind.Write, out _)) return false;
        ulong last = la + (ulong)size - 1;
        return (last >> 12) == (la >> 12) || Translate(last, AccessKind.Write, out _);
    }

    private ulong ReadLinearSlow(ulong la, int size)
    {
        if (((la & 0xFFF) + (ulong)size) > 4096)
        {
            ulong v = 0;
            for (int i = 0; i < size; i++)
            {
                ulong b = ReadLinearSlow(la + (ulong)i, 1);
                if (Faulted) return 0;
                v |= b << (8 * i);
            }
            return v;
        }
        if (!Translate(la, AccessKind.Read, out ulong pa)) return 0;
        if (DataBreakpoints != 0) CheckDataBreakpoints(la, size, write: false);
        return Memory.ReadPhys(pa, size);
    }

    private void WriteLinearSlow(ulong la, int size, ulong value)
    {
        if (((la & 0xFFF) + (ulong)size) > 4096)
        {
            if (!ProbeWrite(la, size)) return;
            for (int i = 0; i < size; i++) WriteLinearSlow(la + (ulong)i, 1, value >> (8 * i));
            return;
        }
        if (!Translate(la, AccessKind.Write, out ulong pa)) return;
        if (DataBreakpoints != 0) CheckDataBreakpoints(la, size, write: true);
        if (Memory.CodePages.Count != 0 && Memory.CodePages.Contains(pa >> 12)) _exitBlock = true;
        Memory.WritePhys(pa, size, value);
    }

    // ---- translation ----------------------------------------------------------------------------------------------

    /// <summary>
    /// Translates <paramref name="la"/> for an access, filling the TLB. On failure raises #PF (CR2 = la) and
    /// returns false.
    /// </summary>
    internal bool Translate(ulong la, AccessKind kind, out ulong pa)
    {
        ref TlbEntry e = ref _tlb[(int)(la >> 12) & TlbMask];
        ulong tag = (la & ~0xFFFUL) | 1;
        ulong have = kind switch { AccessKind.Read => e.ReadTag, AccessKind.Write => e.WriteTag, _ => e.ExecTag };
        if (have == tag)
        {
            pa = (e.PhysPage << 12) | (la & 0xFFF);
            return true;
        }

        if ((Efer & Msr.EferLma) != 0 && (ulong)((long)(la << 16) >> 16) != la)
        {
            // Non-canonical linear address: #GP(0). (The SDM raises #SS(0) for stack-segment references; the MMU
            // does not know the segment, so those also report #GP(0).) TLB tags are canonical, so no hit above.
            pa = 0;
            RaiseFault(Vector.GP, 0);
            return false;
        }
        if (!Walk(la, kind, out ulong pagePa, out bool readable, out bool writable, out bool executable, out int error))
        {
            pa = 0;
            Cr2 = la;
            RaiseFault(Vector.PF, error);
            return false;
        }
        pa = pagePa | (la & 0xFFF);
        ulong ppage = pagePa >> 12;
        if (e.PhysPage != ppage || (e.ReadTag != tag && e.WriteTag != tag && e.ExecTag != tag))
            e = default;
        e.PhysPage = ppage;
        // A page holding a data breakpoint gets no host pointer: its accesses take the slow path, which checks.
        e.Host = DataBreakpoints != 0 && PageHasDataBreakpoint(la) ? 0 : (nint)Memory.RamPointer(pagePa);
        // A page the KHO oracle watches gets no host pointer and no fast write, so every access reaches the slow path.
        bool watched = Memory.Watch.Active && Memory.Watch.BlocksFastWrite(ppage);
        if (watched && Memory.Watch.BlocksFastRead(ppage)) { e.Host = 0; e.WriteTag = 0; }
        if (readable) e.ReadTag = tag;
        if (executable) e.ExecTag = tag;
        // Writes reach the fast path only for RAM pages that hold no decoded code, once the dirty bit is set.
        if (kind == AccessKind.Write && writable && e.Host != 0 && !Memory.CodePages.Contains(ppage) && !watched)
            e.WriteTag = tag;
        if (kind == AccessKind.Write && (e.Host == 0 || Memory.CodePages.Contains(ppage) || watched))
            e.WriteTag = 0;
        return true;
    }

    /// <summary>Translates without side effects on failure (monitor, debugger, loaders); -1 when not mapped.</summary>
    public long DebugTranslate(ulong la)
    {
        bool savedFault = Faulted;
        if (!Walk(la, AccessKind.Read, out ulong pa, out _, out _, out _, out _, setBits: false)) return -1;
        Faulted = savedFault;
        return (long)(pa | (la & 0xFFF));
    }

    /// <summary>The page walk. Returns the 4 KiB-aligned physical address for <paramref name="la"/>;
    /// <paramref name="readable"/>/<paramref name="writable"/>/<paramref name="executable"/> say which accesses the TLB
    /// may serve from this translation at the current privilege (SMAP-dependent and PK-denied data accesses never).</summary>
    private bool Walk(ulong la, AccessKind kind, out ulong pagePa, out bool readable, out bool writable, out bool executable,
        out int error, bool setBits = true)
    {
        bool user = Cpl == 3;
        bool write = kind == AccessKind.Write;
        bool fetch = kind == AccessKind.Execute;
        readable = true;
        writable = true;
        executable = true;
        error = (write ? 2 : 0) | (user ? 4 : 0);
        if ((Cr0 & ControlBits.Cr0PG) == 0)
        {
            pagePa = Is64 || Mode == CpuMode.Real16 ? la & ~0xFFFUL : (uint)la & ~0xFFFU;
            return true;
        }

        bool nxe = (Efer & Msr.EferNxe) != 0;
        if ((nxe || (Cr4 & ControlBits.Cr4SMEP) != 0) && fetch) error |= 0x10; // I/D is reserved without NXE and SMEP
        bool userOk = true, writeOk = true, execOk = true;
        ulong entry;
        ulong entryAddr;
        int levelShift;
        int entrySize = 8;

        if ((Efer & Msr.EferLma) != 0)
        {
            // 4-level paging: PML4 → PDPT → PD → PT.
            ulong table = Cr3 & PhysAddrMask;
            levelShift = 39;
            while (true)
            {
                entryAddr = table + ((la >> levelShift) & 511) * 8;
                entry = Memory.ReadPhys(entryAddr, 8);
                if ((entry & 1) == 0) { pagePa = 0; return false; }
                if (ReservedBitsSet(entry, levelShift, nxe)) { error |= 1 | ErrorRsvd; pagePa = 0; return false; }
                if (nxe && (entry >> 63) != 0) execOk = false;
                Accumulate(entry, ref userOk, ref writeOk);
                if (setBits && (entry & 0x20) == 0) Memory.WritePhys(entryAddr, 8, entry | 0x20);
                bool large = levelShift is 30 or 21 && (entry & 0x80) != 0;
                if (levelShift == 12 || large) break;
                table = entry & PhysAddrMask;
                levelShift -= 9;
            }
        }
        else if ((Cr4 & ControlBits.Cr4PAE) != 0)
        {
            // PAE: four PDPTEs (32-byte aligned in CR3) → PD → PT, 8-byte entries.
            ulong pdpte = Memory.ReadPhys((Cr3 & 0xFFFF_FFE0) + ((la >> 30) & 3) * 8, 8);
            if ((pdpte & 1) == 0) { pagePa = 0; return false; }
            ulong table = pdpte & PhysAddrMask;
            levelShift = 21;
            while (true)
            {
                entryAddr = table + ((la >> levelShift) & 511) * 8;
                entry = Memory.ReadPhys(entryAddr, 8);
                if ((entry & 1) == 0) { pagePa = 0; return false; }
                if (ReservedBitsSet(entry, levelShift, nxe)) { error |= 1 | ErrorRsvd; pagePa = 0; return false; }
                if (nxe && (entry >> 63) != 0) execOk = false;
                Accumulate(entry, ref userOk, ref writeOk);
                if (setBits && (entry & 0x20) == 0) Memory.WritePhys(entryAddr, 8, entry | 0x20);
                if (levelShift == 12 || (entry & 0x80) != 0) break;
                table = entry & PhysAddrMask;
                levelShift = 12;
            }
        }
        else
        {
            // 32-bit paging: PD → PT, 4-byte entries, 4 MiB pages with CR4.PSE.
            ulong table = Cr3 & 0xFFFF_F000;
            levelShift = 22;
            entrySize = 4;
            while (true)
            {
                entryAddr = table + (((uint)la >> levelShift) & 1023) * 4;
                entry = Memory.ReadPhys(entryAddr, 4);
                if ((entry & 1) == 0) { pagePa = 0; return false; }
                Accumulate(entry, ref userOk, ref writeOk);
                if (setBits && (entry & 0x20) == 0) Memory.WritePhys(entryAddr, 4, entry | 0x20);
                if (levelShift == 12 || ((entry & 0x80) != 0 && (Cr4 & ControlBits.Cr4PSE) != 0)) break;
                table = entry & 0xFFFF_F000;
                levelShift = 12;
            }
            if (levelShift == 22)
                entry = (entry & 0xFFC0_0000) | ((entry & 0x1FE000) << 19) | (entry & 0xFFF); // PSE-36 high bits
        }

        error |= 1; // present: any failure from here on is a protection violation
        bool wp = (Cr0 & ControlBits.Cr0WP) != 0;
        bool denied = setBits && !ExtendedRights(entry, user, userOk, write, fetch, wp, ref readable, ref writable, ref execOk, ref error);
        if (user && !userOk) { pagePa = 0; return false; }
        if (write && !writeOk && (user || wp)) { pagePa = 0; return false; }
        if (fetch && !execOk) { pagePa = 0; return false; }
        if (denied) { pagePa = 0; return false; }
        writable &= writeOk || (!user && !wp);
        executable = execOk;

        if (setBits && write && (entry & 0x40) == 0)
            Memory.WritePhys(entryAddr, entrySize, Memory.ReadPhys(entryAddr, entrySize) | 0x60);
        if (!write) writable = writable && (entry & 0x40) != 0; // no fast writes until the dirty bit is set

        ulong pageMask = (1UL << levelShift) - 1;
        ulong frame = entrySize == 4 && levelShift == 22
            ? entry & 0xF_FFC0_0000
            : entry & PhysAddrMask & ~pageMask;
        pagePa = (frame | (la & pageMask)) & ~0xFFFUL;
        return true;
    }

    /// <summary>
    /// Reserved bits of a present PAE or 4-level paging entry at <paramref name="levelShift"/> (39 PML4E, 30 PDPTE,
    /// 21 PDE, 12 PTE), SDM vol. 3, 4.4.2 and 4.5.4 (tables 4-15 to 4-20): bits 51:MAXPHYADDR, XD while EFER.NXE = 0,
    /// PS in a PML4E, PS in a PDPTE without 1 GiB pages, and the low reserved bits of 1 GiB and 2 MiB page entries.
    /// Such an entry raises #PF with P and RSVD set (4.7). Bits 62:52 are ignored (available to software).
    /// </summary>
    private bool ReservedBitsSet(ulong entry, int levelShift, bool nxe)
    {
        if ((entry & AboveMaxPhysAddr) != 0 || (!nxe && (long)entry < 0)) return true;
        if ((entry & 0x80) == 0) return false;
        return levelShift switch
        {
            39 => true,
            30 => !Model.Has(CpuFeature.Page1G) || (entry & Reserved1G) != 0,
            21 => (entry & Reserved2M) != 0,
            _ => false, // PTE bit 7 is PAT
        };
    }

    private static void Accumulate(ulong entry, ref bool userOk, ref bool writeOk)
    {
        if ((entry & 4) == 0) userOk = false;
        if ((entry & 2) == 0) writeOk = false;
    }
}
