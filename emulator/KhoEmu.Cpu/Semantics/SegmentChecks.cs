using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu.Semantics;

/// <summary>
/// Descriptor inspection without loading a segment: VERR, VERW, LAR, LSL (Intel SDM vol. 2A/2B) and ARPL. These
/// never fault on an unusable selector; they report through ZF. Only reading the descriptor table itself can fault.
/// </summary>
internal static class SegmentChecks
{
    /// <summary>Access byte layout (SDM vol. 3, 3.4.5): type bits 0-3, S bit 4, DPL bits 5-6.</summary>
    private const int TypeMask = 0xF, SystemBit = 0x10, CodeBit = 0x8, ConformingBit = 0x4, ReadWriteBit = 0x2;

    /// <summary>The selector operand: a register's low 16 bits or a 16-bit memory word.</summary>
    private static ushort Selector(Cpu c, ref DecodedOp op, bool second)
    {
        var kind = second ? op.K1 : op.K0;
        if (kind == OperandKind.Register) return (ushort)c.GetReg(second ? op.R1 : op.R0, 2);
        return (ushort)c.Read(op.Seg, c.Ea(ref op), 2);
    }

    /// <summary>#UD outside protected mode (the instructions are not recognised in real mode, SDM "Real-Address Mode Exceptions").</summary>
    private static bool RequireProtected(Cpu c)
    {
        if (c.Mode != CpuMode.Real16) return true;
        c.RaiseFault(Vector.UD);
        return false;
    }

    /// <summary>The descriptor's access byte when it is visible at CPL and the selector's RPL (conforming code always is).</summary>
    private static bool Visible(Cpu c, ushort selector, int access)
    {
        bool conformingCode = (access & (SystemBit | CodeBit | ConformingBit)) == (SystemBit | CodeBit | ConformingBit);
        int dpl = (access >> 5) & 3;
        return conformingCode || (dpl >= c.Cpl && dpl >= (selector & 3));
    }

    public static void Verr(Cpu c, ref DecodedOp op) => Verify(c, ref op, write: false);
    public static void Verw(Cpu c, ref DecodedOp op) => Verify(c, ref op, write: true);

    /// <summary>
    /// VERR/VERW: ZF=1 when the segment is a code/data segment visible at CPL and RPL that is readable (VERR: data, or
    /// readable code) or writable (VERW: writable data). The present bit is not checked (QEMU's helper_verr/verw agree).
    /// </summary>
    private static void Verify(Cpu c, ref DecodedOp op, bool write)
    {
        if (!RequireProtected(c)) return;
        ushort sel = Selector(c, ref op, second: false);
        if (c.Faulted) return;
        if (!c.TryReadDescriptorQuietly(sel, out ulong d)) { if (!c.Faulted) c.SetFlag(Rflags.ZF, false); return; }
        int access = (int)(d >> 40) & 0xFF;
        bool ok = (access & SystemBit) != 0 && Visible(c, sel, access);
        bool code = (access & CodeBit) != 0, rw = (access & ReadWriteBit) != 0;
        ok &= write ? !code && rw : !code || rw;
        c.SetFlag(Rflags.ZF, ok);
    }

    /// <summary>System descriptor types LAR accepts (SDM vol. 2A, LAR table "Segment and Gate Types").</summary>
    private static bool LarType(int type, bool ia32e) => ia32e
        ? type is 0x9 or 0xB or 0xC
        : type is 0x1 or 0x2 or 0x3 or 0x4 or 0x5 or 0x9 or 0xB or 0xC;

    /// <summary>System descriptor types LSL accepts (SDM vol. 2A, LSL table); type 0 in IA-32e mode is the upper
    /// half of a 16-byte descriptor, which the table lists as valid.</summary>
    private static bool LslType(int type, bool ia32e) => ia32e
        ? type is 0x0 or 0x2 or 0x9 or 0xB
        : type is 0x1 or 0x2 or 0x3 or 0x9 or 0xB;

    public static void Lar(Cpu c, ref DecodedOp op) => LoadDescriptorField(c, ref op, accessRights: true);
    public static void Lsl(Cpu c, ref DecodedOp op) => LoadDescriptorField(c, ref op, accessRights: false);

    /// <summary>
    /// LAR: the descriptor's second doubleword masked with 00FFFF00h (FF00h for a 16-bit destination). Intel documents
    /// the mask as 00FxFF00h with limit bits 19:16 ("x") undefined; hardware returns them (the differential test
    /// measured it on the host) and so does this CPU, where QEMU clears them. LSL: the limit, scaled by the
    /// granularity bit. The destination is written only when ZF=1; a 32-bit write zero-extends.
    /// </summary>
    private static void LoadDescriptorField(Cpu c, ref DecodedOp op, bool accessRights)
    {
        if (!RequireProtected(c)) return;
        ushort sel = Selector(c, ref op, second: true);
        if (c.Faulted) return;
        if (!c.TryReadDescriptorQuietly(sel, out ulong d)) { if (!c.Faulted) c.SetFlag(Rflags.ZF, false); return; }
        int access = (int)(d >> 40) & 0xFF;
        bool ia32e = (c.Efer & Msr.EferLma) != 0;
        bool validType = (access & SystemBit) != 0
            || (accessRights ? LarType(access & TypeMask, ia32e) : LslType(access & TypeMask, ia32e));
        if (!validType || !Visible(c, sel, access)) { c.SetFlag(Rflags.ZF, false); return; }
        ulong value;
        if (accessRights) value = (d >> 32) & (op.Size == 2 ? 0xFF00UL : 0x00FF_FF00UL);
        else value = SegmentCache.FromDescriptor(sel, d).Limit;
        c.SetReg(op.R0, op.Size, value);
        c.SetFlag(Rflags.ZF, true);
    }

    /// <summary>ARPL r/m16, r16: raises the destination selector's RPL to the source's; ZF says whether it changed.</summary>
    public static void Arpl(Cpu c, ref DecodedOp op)
    {
        if (!RequireProtected(c)) return;
        bool mem = op.K0 == OperandKind.Memory;
        ulong ea = mem ? c.Ea(ref op) : 0;
        ushort dest = mem ? (ushort)c.Read(op.Seg, ea, 2) : (ushort)c.GetReg(op.R0, 2);
        if (c.Faulted) return;
        int srcRpl = (int)c.GetReg(op.R1, 2) & 3;
        if ((dest & 3) >= srcRpl) { c.SetFlag(Rflags.ZF, false); return; }
        ushort result = (ushort)((dest & ~3) | srcRpl);
        if (mem) c.Write(op.Seg, ea, 2, result);
        else c.SetReg(op.R0, 2, result);
        if (!c.Faulted) c.SetFlag(Rflags.ZF, true);
    }
}
