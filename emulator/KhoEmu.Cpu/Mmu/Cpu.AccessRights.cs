using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu;

/// <summary>
/// The access rights added by SMEP, SMAP and protection keys (Intel SDM vol. 3, 4.6): checked after the U/S, R/W and
/// NX rules of the page walk, for the final translation of a linear address.
/// </summary>
public sealed partial class Cpu
{
    /// <summary>True while the CPU makes an implicit supervisor-mode access (descriptor tables, TSS: SDM vol. 3,
    /// 4.6): SMAP treats it as if EFLAGS.AC were 0, whatever CPL and AC are.</summary>
    private bool _implicitSupervisor;

    /// <summary>
    /// SMEP/SMAP/PKU/PKS for one translation. <paramref name="userPage"/>: U/S = 1 at every level (a user-mode
    /// address). Returns false when the access is not allowed (the caller raises #PF; <paramref name="error"/> gets
    /// PK, bit 5, for a protection-key violation). Narrows what the TLB may cache:
    /// - SMEP (CR4.SMEP): no supervisor-mode instruction fetch from a user-mode address.
    /// - SMAP (CR4.SMAP): supervisor-mode data accesses to user-mode addresses only when explicit and EFLAGS.AC = 1;
    ///   since that depends on AC, such translations are never cached for data.
    /// - Protection keys (IA-32e paging only): the key is bits 62:59 of the leaf entry; PKRU governs user-mode
    ///   addresses with CR4.PKE, IA32_PKRS supervisor-mode addresses with CR4.PKS. AD = 1 forbids every data access;
    ///   WD = 1 forbids user-mode writes, and supervisor-mode writes when CR0.WP = 1. Instruction fetches are exempt.
    /// </summary>
    private bool ExtendedRights(ulong leaf, bool user, bool userPage, bool write, bool fetch, bool wp,
        ref bool readable, ref bool writable, ref bool executable, ref int error)
    {
        bool ok = true;
        if (!user && userPage)
        {
            if ((Cr4 & ControlBits.Cr4SMEP) != 0)
            {
                executable = false;
                if (fetch) ok = false;
            }
            if ((Cr4 & ControlBits.Cr4SMAP) != 0)
            {
                readable = writable = false;
                if (!fetch && (_implicitSupervisor || (_rflags & Rflags.AC) == 0)) ok = false;
            }
        }
        if ((Efer & Msr.EferLma) == 0) return ok;
        uint rights;
        if (userPage && (Cr4 & ControlBits.Cr4PKE) != 0) rights = Pkru;
        else if (!userPage && !user && (Cr4 & ControlBits.Cr4PKS) != 0) rights = Pkrs; // PKS governs supervisor-mode accesses only
        else return ok;
        int key = (int)(leaf >> 59) & 15;
        bool ad = (rights >> (2 * key) & 1) != 0, wd = (rights >> (2 * key + 1) & 1) != 0;
        if (ad) readable = writable = false;
        if (wd && (user || wp)) writable = false;
        if (!fetch && (ad || (write && wd && (user || wp))))
        {
            error |= 0x20;
            ok = false;
        }
        return ok;
    }
}
