namespace KhoEmu.Cpu.State;

/// <summary>Model-specific register numbers the CPU implements (Intel SDM vol. 4).</summary>
public static class Msr
{
    public const uint Tsc = 0x10;
    public const uint ApicBase = 0x1B;
    public const uint FeatureControl = 0x3A;
    public const uint BiosSignId = 0x8B;
    public const uint MtrrCap = 0xFE;
    public const uint ArchCapabilities = 0x10A;
    public const uint MiscEnable = 0x1A0;
    public const uint MtrrPhysBase0 = 0x200, MtrrPhysMask7 = 0x20F;
    public const uint MtrrFix64K00000 = 0x250, MtrrFix16K80000 = 0x258, MtrrFix16KA0000 = 0x259;
    public const uint MtrrFix4KC0000 = 0x268, MtrrFix4KF8000 = 0x26F;
    public const uint MtrrDefType = 0x2FF;
    public const uint Pat = 0x277;
    public const uint SysenterCs = 0x174, SysenterEsp = 0x175, SysenterEip = 0x176;
    public const uint Efer = 0xC000_0080;
    public const uint Star = 0xC000_0081, Lstar = 0xC000_0082, Cstar = 0xC000_0083, Sfmask = 0xC000_0084;
    public const uint FsBase = 0xC000_0100, GsBase = 0xC000_0101, KernelGsBase = 0xC000_0102;
    public const uint TscAux = 0xC000_0103;
    /// <summary>AMD SYSCFG (AMD APM vol. 2, 7.9.1; BKDG for family 0Fh, 13.2.1.2): MTRR-related DRAM control bits.</summary>
    public const uint AmdSyscfg = 0xC001_0010;
    /// <summary>AMD legacy performance counters (AMD APM vol. 2, 13.2.1): PERF_CTL0-3 (event selects), PERF_CTR0-3.</summary>
    public const uint AmdPerfCtl0 = 0xC001_0000, AmdPerfCtr3 = 0xC001_0007;
    /// <summary>AMD HWCR (APM vol. 2, appendix A; PPR for family 17h, MSRC001_0015): bit 24 TscFreqSel reads 1.</summary>
    public const uint AmdHwcr = 0xC001_0015;
    /// <summary>AMD NB_CFG (BKDG for family 10h, MSRC001_001F): bit 46 EnableCf8ExtCfg.</summary>
    public const uint AmdNbCfg = 0xC001_001F;
    /// <summary>AMD Interrupt Pending Message (BKDG for family 0Fh, MSRC001_0055): its C1E bits say whether the C1E
    /// idle state (erratum 400) is active.</summary>
    public const uint AmdIntPendingMsg = 0xC001_0055;

    /// <summary>IA32_MISC_ENABLE bits (SDM vol. 4, table 2-2).</summary>
    public const ulong MiscFastStrings = 1UL << 0, MiscBtsUnavailable = 1UL << 11, MiscPebsUnavailable = 1UL << 12,
        MiscMonitorEnable = 1UL << 18, MiscLimitCpuid = 1UL << 22, MiscXdDisable = 1UL << 34;

    /// <summary>IA32_APIC_BASE.EN: the local APIC is globally enabled (SDM vol. 3, 11.4.4).</summary>
    public const ulong ApicBaseEnable = 1UL << 11;
    public const ulong EferSce = 1 << 0, EferLme = 1 << 8, EferLma = 1 << 10, EferNxe = 1 << 11;
}
