using Iced.Intel;
using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu.Semantics;

/// <summary>
/// BCD adjustments (AAA/AAS/AAM/AAD/DAA/DAS), BOUND and the far-pointer loads LDS/LES/LFS/LGS/LSS (SDM vol. 2). The
/// BCD instructions, BOUND, LDS and LES do not exist in 64-bit mode (the decoder gives #UD there; C4/C5 are VEX).
/// Flags the SDM leaves undefined are set as QEMU's TCG sets them: AAA/AAS leave OF/SF/ZF/PF unchanged, DAA/DAS clear
/// OF, AAM/AAD clear OF/AF/CF (a logic result on AL).
/// </summary>
internal static class LegacyOps
{
    private static bool Parity(ulong v) => (System.Numerics.BitOperations.PopCount(v & 0xFF) & 1) == 0;

    /// <summary>AAA/AAS: AX ± 106H (AAS: AX - 6, AH - 1) when AL's low nibble is over 9 or AF, then AL &amp;= 0FH.</summary>
    public static void AsciiAdjust(Cpu c, ref DecodedOp op)
    {
        ushort ax = (ushort)c.Gpr[Cpu.RAX];
        bool adjust = (ax & 0x0F) > 9 || c.AF;
        if (adjust) ax = (ushort)(op.Insn.Mnemonic == Mnemonic.Aaa ? ax + 0x106 : ax - 0x106); // AAS: AX - 6, then AH - 1
        c.SetReg(Cpu.RAX, 2, (ulong)(ax & 0xFF0F));
        c.MaterializeFlags();
        c.SetFlag(Rflags.AF, adjust);
        c.SetFlag(Rflags.CF, adjust);
    }

    /// <summary>DAA/DAS: decimal adjust AL after an addition or subtraction.</summary>
    public static void DecimalAdjust(Cpu c, ref DecodedOp op)
    {
        bool add = op.Insn.Mnemonic == Mnemonic.Daa;
        uint al = (byte)c.Gpr[Cpu.RAX], oldAl = al;
        bool oldCf = c.CF, af = false, cf = false;
        if ((al & 0x0F) > 9 || c.AF)
        {
            cf = oldCf || (add ? al + 6 > 0xFF : al < 6);
            al = (add ? al + 6 : al - 6) & 0xFF;
            af = true;
        }
        if (oldAl > 0x99 || oldCf)
        {
            al = (add ? al + 0x60 : al - 0x60) & 0xFF;
            cf = true;
        }
        c.SetReg(Cpu.RAX, 1, al);
        c.SetArithFlags(cf, Parity(al), af, al == 0, (al & 0x80) != 0, false);
    }

    /// <summary>AAM imm8: AH = AL / imm8, AL = AL mod imm8; #DE for 0. AAD imm8: AL = AL + AH * imm8, AH = 0.</summary>
    public static void AsciiMulDiv(Cpu c, ref DecodedOp op)
    {
        uint ax = (ushort)c.Gpr[Cpu.RAX], imm = (byte)op.Imm;
        uint al;
        if (op.Insn.Mnemonic == Mnemonic.Aam)
        {
            if (imm == 0) { c.RaiseFault(Vector.DE); return; }
            al = (ax & 0xFF) % imm;
            c.SetReg(Cpu.RAX, 2, ((ax & 0xFF) / imm) << 8 | al);
        }
        else
        {
            al = ((ax & 0xFF) + (ax >> 8) * imm) & 0xFF;
            c.SetReg(Cpu.RAX, 2, al);
        }
        c.SetArithFlags(false, Parity(al), false, al == 0, (al & 0x80) != 0, false);
    }

    /// <summary>BOUND r16/r32, m16&amp;16/m32&amp;32: #BR (a fault) unless lower &lt;= index &lt;= upper, signed.</summary>
    public static void Bound(Cpu c, ref DecodedOp op)
    {
        int size = op.Size;
        ulong ea = c.Ea(ref op);
        ulong lo = c.Read(op.Seg, ea, size);
        if (c.Faulted) return;
        ulong hi = c.Read(op.Seg, (ea + (ulong)size) & op.AddrMask, size);
        if (c.Faulted) return;
        long index = Signed(c.GetReg(op.R0, size), size);
        if (index < Signed(lo, size) || index > Signed(hi, size)) c.RaiseFault(Vector.BR);
    }

    private static long Signed(ulong v, int size) => size == 2 ? (short)v : (int)v;

    /// <summary>LDS/LES/LFS/LGS/LSS r, m16:16/m16:32/m16:64: the offset then the selector, which is loaded with the
    /// checks of MOV Sreg (a fault leaves the register unchanged); no interrupt shadow for LSS (only MOV SS/POP SS).</summary>
    public static void LoadFarPointer(Cpu c, ref DecodedOp op)
    {
        int seg = op.Insn.Mnemonic switch
        {
            Mnemonic.Lds => SegReg.DS,
            Mnemonic.Les => SegReg.ES,
            Mnemonic.Lfs => SegReg.FS,
            Mnemonic.Lgs => SegReg.GS,
            _ => SegReg.SS,
        };
        int size = op.Size;
        ulong ea = c.Ea(ref op);
        ulong offset = c.Read(op.Seg, ea, size);
        if (c.Faulted) return;
        ulong selector = c.Read(op.Seg, (ea + (ulong)size) & op.AddrMask, 2);
        if (c.Faulted) return;
        c.LoadSegmentRegister(seg, (ushort)selector);
        if (c.Faulted) return;
        c.SetReg(op.R0, size, offset);
    }
}
