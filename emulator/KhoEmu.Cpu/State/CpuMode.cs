namespace KhoEmu.Cpu.State;

/// <summary>The operating mode that decides how instructions decode (Intel SDM vol. 1, 3.1).</summary>
public enum CpuMode : byte
{
    Real16,
    Protected16,
    Protected32,
    Compat16,
    Compat32,
    Long64,
}
