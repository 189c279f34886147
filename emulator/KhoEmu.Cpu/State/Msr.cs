namespace KhoEmu.Cpu.State;

/// <summary>Model-specific register numbers the CPU implements (Intel SDM vol. 4).</summary>
public static class Msr
{
    public const uint Tsc = 0x10;
    public const uint ApicBase = 0x1B;
    public const uint MiscEnable = 0x1A0;
    public const uint Pat = 0x277;
    public const uint SysenterCs = 0x174, SysenterEsp = 0x175, SysenterEip = 0x176;
    public const uint Efer = 0xC000_0080;
    public const uint Star = 0xC000_0081, Lstar = 0xC000_0082, Cstar = 0xC000_0083, Sfmask = 0xC000_0084;
    public const uint FsBase = 0xC000_0100, GsBase = 0xC000_0101, KernelGsBase = 0xC000_0102;
    public const uint TscAux = 0xC000_0103;

    public const ulong EferSce = 1 << 0, EferLme = 1 << 8, EferLma = 1 << 10, EferNxe = 1 << 11;
}
