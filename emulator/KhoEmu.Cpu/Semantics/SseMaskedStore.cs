using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu.Semantics;

internal static partial class Sse
{
    /// <summary>
    /// MASKMOVDQU xmm1, xmm2 (SDM vol. 2): the bytes of xmm1 whose mask byte in xmm2 has bit 7 set are stored to
    /// DS:rDI (segment override allowed, rDI of the address size); the others are not written. The non-temporal hint
    /// has no architectural effect here (no caches are modelled): a plain byte-masked store. Writability of the span
    /// from the first to the last selected byte is checked before any byte is written, so a fault leaves memory
    /// unchanged; an all-zero mask accesses nothing and cannot fault (the SDM leaves that implementation-specific).
    /// No alignment requirement.
    /// </summary>
    public static void Maskmovdqu(Cpu c, ref DecodedOp op)
    {
        if (!Available(c)) return;
        Xmm data = c.XmmRegs[op.R1], mask = c.XmmRegs[op.R2];
        int first = -1, last = -1;
        for (int i = 0; i < 16; i++)
        {
            if ((Byte(mask, i) & 0x80) == 0) continue;
            if (first < 0) first = i;
            last = i;
        }
        if (first < 0) return;
        ulong ea = c.Gpr[Cpu.RDI] & op.AddrMask;
        ulong la = c.Linear(op.Seg, ea + (ulong)first);
        if (!c.ProbeWrite(la, last - first + 1)) return;
        for (int i = first; i <= last; i++)
            if ((Byte(mask, i) & 0x80) != 0) c.Write(op.Seg, (ea + (ulong)i) & op.AddrMask, 1, Byte(data, i));
    }

    private static byte Byte(Xmm x, int i) => (byte)((i < 8 ? x.Lo : x.Hi) >> (8 * (i & 7)));
}
