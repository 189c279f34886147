namespace KhoEmu.Cpu.State;

/// <summary>Segment register numbers in encoding order (ModRM.reg of MOV Sreg).</summary>
public static class SegReg
{
    public const int ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5;
    /// <summary>No segment override / not a memory operand.</summary>
    public const int None = 7;
}
