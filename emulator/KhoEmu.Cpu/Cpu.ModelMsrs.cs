using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu;

/// <summary>
/// The MSRs whose presence depends on the CPU model, and CPUID as the current MSR state shapes it: IA32_MISC_ENABLE,
/// IA32_FEATURE_CONTROL, IA32_BIOS_SIGN_ID, IA32_ARCH_CAPABILITIES, the MTRRs (SDM vol. 3, 12.11; vol. 4,
/// table 2-2) and AMD's SYSCFG and Interrupt Pending Message. Numbers are in <see cref="Msr"/>; the behaviour follows QEMU's where the SDM leaves room.
/// </summary>
public sealed partial class Cpu
{
    /// <summary>IA32_MISC_ENABLE after reset: fast strings on (Linux keeps ERMS/REP_GOOD only then), no BTS/PEBS.</summary>
    private const ulong MiscEnableReset = Msr.MiscFastStrings | Msr.MiscBtsUnavailable | Msr.MiscPebsUnavailable;

    /// <summary>IA32_MTRRCAP: 8 variable ranges, fixed ranges and write-combining supported (QEMU's value).</summary>
    private const ulong MtrrCapValue = 8 | (1 << 8) | (1 << 10);

    private ref ulong _miscEnable => ref _s.Msrs.MiscEnable;
    private ref ulong _mtrrDefType => ref _s.Msrs.MtrrDefType;
    private ref ulong _amdSyscfg => ref _s.Msrs.AmdSyscfg;
    private ref ulong _amdIntPendingMsg => ref _s.Msrs.AmdIntPendingMsg;
    private ref ulong _amdHwcr => ref _s.Msrs.AmdHwcr;
    private ref ulong _amdNbCfg => ref _s.Msrs.AmdNbCfg;

    /// <summary>HWCR.TscFreqSel (bit 24): the TSC counts at the P0 frequency; read-only 1 from family 10h on.</summary>
    private const ulong HwcrTscFreqSel = 1UL << 24;
    private ref VariableMtrrs _mtrrVariable => ref _s.Msrs.MtrrVariable;
    private ref FixedMtrrs _mtrrFixed => ref _s.Msrs.MtrrFixed;

    private void ResetModelMsrs()
    {
        _miscEnable = MiscEnableReset;
        _mtrrDefType = 0; // MTRRs disabled: firmware enables them (SDM vol. 3, 12.11.5)
        _amdSyscfg = 0;
        _amdIntPendingMsg = 0; // C1E not active: there is no C1E idle state here
        _amdHwcr = HwcrTscFreqSel;
        _amdNbCfg = 0;
        ((Span<ulong>)_mtrrVariable).Clear();
        ((Span<ulong>)_mtrrFixed).Clear();
    }

    /// <summary>EFER.NXE can be set: the model has NX and IA32_MISC_ENABLE.XD_DISABLE is clear.</summary>
    private bool NxAvailable => Model.Has(CpuFeature.Nx) && (_miscEnable & Msr.MiscXdDisable) == 0;

    /// <summary>CPUID for the model, adjusted by IA32_MISC_ENABLE: LIMIT_CPUID caps the basic leaves at 2 and
    /// XD_DISABLE hides NX (Intel only; SDM vol. 4, table 2-2).</summary>
    internal (uint Eax, uint Ebx, uint Ecx, uint Edx) Cpuid(uint leaf, uint subleaf)
    {
        bool limit = Model.IsIntel && (_miscEnable & Msr.MiscLimitCpuid) != 0;
        if (limit && (leaf >= 0x8000_0000 ? leaf > Model.MaxExtendedLeaf : leaf > 2)) leaf = 2;
        var r = Model.Query(leaf, subleaf);
        ApplyTopology(leaf, subleaf, ref r);
        if (limit && leaf == 0) r.Eax = Math.Min(r.Eax, 2);
        if (leaf == 0x8000_0001 && !NxAvailable) r.Edx &= ~(1u << 20);
        AdjustXstateCpuid(leaf, subleaf, ref r);
        // CPUID.1:EDX.APIC (and AMD's copy in 8000_0001h) reads 0 while IA32_APIC_BASE.EN is clear (SDM vol. 3, 11.4.3).
        if ((leaf == 1 || (leaf == 0x8000_0001 && !Model.IsIntel)) && TryReadMsr(Msr.ApicBase, out ulong apicBase)
            && (apicBase & Msr.ApicBaseEnable) == 0)
            r.Edx &= ~(1u << 9);
        return r;
    }

    /// <summary>Index of a fixed-range MTRR (IA32_MTRR_FIX64K_00000 … FIX4K_F8000), or -1.</summary>
    private static int FixedMtrrIndex(uint msr) => msr switch
    {
        Msr.MtrrFix64K00000 => 0,
        Msr.MtrrFix16K80000 => 1,
        Msr.MtrrFix16KA0000 => 2,
        >= Msr.MtrrFix4KC0000 and <= Msr.MtrrFix4KF8000 => 3 + (int)(msr - Msr.MtrrFix4KC0000),
        _ => -1,
    };

    private bool IsModelMsr(uint msr)
    {
        bool mtrr = Model.Has(CpuFeature.Mtrr)
            && (msr is Msr.MtrrCap or Msr.MtrrDefType or >= Msr.MtrrPhysBase0 and <= Msr.MtrrPhysMask7 || FixedMtrrIndex(msr) >= 0);
        return mtrr || msr == Msr.BiosSignId
            || (Model.IsIntel && msr is Msr.MiscEnable or Msr.FeatureControl)
            || (!Model.IsIntel && msr is Msr.AmdSyscfg or Msr.AmdIntPendingMsg or Msr.AmdHwcr or Msr.AmdNbCfg
                or >= Msr.AmdPerfCtl0 and <= Msr.AmdPerfCtr3)
            || (msr == Msr.ArchCapabilities && Model.Has(CpuFeature.ArchCapabilities));
    }

    private bool TryReadModelMsr(uint msr, out ulong value)
    {
        value = 0;
        if (!IsModelMsr(msr)) return false;
        value = msr switch
        {
            Msr.MiscEnable => _miscEnable,
            Msr.FeatureControl => 1, // locked with VMX off, as firmware leaves it when VMX is not offered
            Msr.BiosSignId => Model.MicrocodeRevision,
            Msr.ArchCapabilities => Model.ArchCapabilities,
            Msr.MtrrCap => MtrrCapValue,
            Msr.AmdSyscfg => _amdSyscfg,
            Msr.AmdIntPendingMsg => _amdIntPendingMsg,
            Msr.AmdHwcr => _amdHwcr,
            Msr.AmdNbCfg => _amdNbCfg,
            Msr.MtrrDefType => _mtrrDefType,
            >= Msr.AmdPerfCtl0 and <= Msr.AmdPerfCtr3 => 0, // no event is counted (QEMU TCG also reads 0)
            >= Msr.MtrrPhysBase0 and <= Msr.MtrrPhysMask7 => _mtrrVariable[(int)(msr - Msr.MtrrPhysBase0)],
            _ => _mtrrFixed[FixedMtrrIndex(msr)],
        };
        return true;
    }

    /// <summary>WRMSR of a model MSR; false means #GP.</summary>
    private bool TryWriteModelMsr(uint msr, ulong value)
    {
        switch (msr)
        {
            case Msr.MiscEnable:
                // Every bit is stored as QEMU does, except ENABLE_MONITOR_FSM: MONITOR/MWAIT are not implemented.
                _miscEnable = value & ~Msr.MiscMonitorEnable;
                return true;
            case Msr.FeatureControl or Msr.ArchCapabilities or Msr.MtrrCap:
                return false; // locked / read-only
            case Msr.BiosSignId:
                return true; // the "write 0, then CPUID" idiom to latch the revision; the value is fixed
            case Msr.AmdSyscfg:
                // Storage, as QEMU; Linux reads it on every AMD family >= 0Fh with MTRRs and clears MtrrFixDramModEn.
                _amdSyscfg = value;
                return true;
            case Msr.AmdIntPendingMsg:
                // Storage, as QEMU; Linux reads it (unguarded) on family 0Fh parts with erratum 400 to detect C1E.
                _amdIntPendingMsg = value;
                return true;
            case Msr.AmdHwcr:
                // Storage (QEMU TCG reads 0 and drops writes); Linux reads TscFreqSel on family > 10h, which stays 1.
                _amdHwcr = value | HwcrTscFreqSel;
                return true;
            case Msr.AmdNbCfg:
                // Storage; Linux sets EnableCf8ExtCfg (bit 46) when a CPU comes online. Port CF8h ignores it: ECAM
                // (MCFG) is how extended configuration space is reached on this board.
                _amdNbCfg = value;
                return true;
            case >= Msr.AmdPerfCtl0 and <= Msr.AmdPerfCtr3:
                // The legacy performance counters: accepted and dropped, as QEMU TCG does; nothing counts events, and
                // a counter reading back 0 makes Linux report "Broken PMU hardware" and use software events.
                return true;
            case Msr.MtrrDefType:
                if ((value & ~0xCFFUL) != 0) return false; // reserved bits 63:12 and 9:8
                _mtrrDefType = value;
                return true;
            case >= Msr.MtrrPhysBase0 and <= Msr.MtrrPhysMask7:
                _mtrrVariable[(int)(msr - Msr.MtrrPhysBase0)] = value;
                return true;
            default:
                _mtrrFixed[FixedMtrrIndex(msr)] = value;
                return true;
        }
    }
}
