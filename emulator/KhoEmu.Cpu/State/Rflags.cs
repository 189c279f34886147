namespace KhoEmu.Cpu.State;

/// <summary>RFLAGS bits (Intel SDM vol. 1, 3.4.3).</summary>
public static class Rflags
{
    public const ulong CF = 1 << 0, Reserved1 = 1 << 1, PF = 1 << 2, AF = 1 << 4, ZF = 1 << 6, SF = 1 << 7;
    public const ulong TF = 1 << 8, IF = 1 << 9, DF = 1 << 10, OF = 1 << 11, IOPL = 3 << 12, NT = 1 << 14;
    public const ulong RF = 1 << 16, VM = 1 << 17, AC = 1 << 18, VIF = 1 << 19, VIP = 1 << 20, ID = 1 << 21;

    /// <summary>The six arithmetic status flags.</summary>
    public const ulong Arith = CF | PF | AF | ZF | SF | OF;

    /// <summary>Bits software may change with POPF at CPL 0 (VM, VIF and VIP are not modelled).</summary>
    public const ulong Writable = Arith | TF | IF | DF | IOPL | NT | RF | AC | ID;
}
