namespace KhoEmu.Cpu.State;

/// <summary>Exception vectors (Intel SDM vol. 3, table 6-1).</summary>
public static class Vector
{
    public const int DE = 0, DB = 1, NMI = 2, BP = 3, OF = 4, BR = 5, UD = 6, NM = 7, DF = 8;
    public const int TS = 10, NP = 11, SS = 12, GP = 13, PF = 14, MF = 16, AC = 17, MC = 18, XM = 19;

    public static bool HasErrorCode(int v) => v is DF or TS or NP or SS or GP or PF or AC;
    /// <summary>Fault-class exceptions (SDM vol. 3, table 6-1) other than #DB, whose class depends on the cause.</summary>
    public static bool IsFault(int v) => v is DE or BR or UD or NM or TS or NP or SS or GP or PF or MF or AC or XM;

    public static string Name(int v) => v switch
    {
        DE => "#DE divide error", DB => "#DB debug", NMI => "NMI", BP => "#BP breakpoint", OF => "#OF overflow",
        BR => "#BR bound", UD => "#UD invalid opcode", NM => "#NM device not available", DF => "#DF double fault",
        TS => "#TS invalid TSS", NP => "#NP segment not present", SS => "#SS stack fault",
        GP => "#GP general protection", PF => "#PF page fault", MF => "#MF x87 error", AC => "#AC alignment check",
        MC => "#MC machine check", XM => "#XM SIMD exception", _ => $"vector {v}",
    };
}
