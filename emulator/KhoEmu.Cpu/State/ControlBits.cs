namespace KhoEmu.Cpu.State;

/// <summary>CR0 and CR4 bits (Intel SDM vol. 3, 2.5).</summary>
public static class ControlBits
{
    public const ulong Cr0PE = 1 << 0, Cr0MP = 1 << 1, Cr0EM = 1 << 2, Cr0TS = 1 << 3, Cr0ET = 1 << 4, Cr0NE = 1 << 5;
    public const ulong Cr0WP = 1 << 16, Cr0AM = 1 << 18, Cr0NW = 1 << 29, Cr0CD = 1 << 30, Cr0PG = 1UL << 31;

    public const ulong Cr4VME = 1 << 0, Cr4PVI = 1 << 1, Cr4TSD = 1 << 2, Cr4DE = 1 << 3, Cr4PSE = 1 << 4;
    public const ulong Cr4PAE = 1 << 5, Cr4MCE = 1 << 6, Cr4PGE = 1 << 7, Cr4PCE = 1 << 8, Cr4OSFXSR = 1 << 9;
    public const ulong Cr4OSXMMEXCPT = 1 << 10, Cr4FSGSBASE = 1 << 16, Cr4OSXSAVE = 1 << 18, Cr4SMEP = 1 << 20;
    public const ulong Cr4SMAP = 1 << 21, Cr4PKE = 1 << 22, Cr4PKS = 1 << 24;

    /// <summary>CR4 bits every model accepts; the feature-dependent ones (FSGSBASE, OSXSAVE, SMEP, SMAP, PKE, PKS)
    /// are added by <c>Cpu.Cr4Allowed</c> when the model advertises the feature. Setting any other raises #GP.</summary>
    public const ulong Cr4Supported = Cr4VME | Cr4PVI | Cr4TSD | Cr4DE | Cr4PSE | Cr4PAE | Cr4MCE | Cr4PGE | Cr4PCE
        | Cr4OSFXSR | Cr4OSXMMEXCPT;
}
