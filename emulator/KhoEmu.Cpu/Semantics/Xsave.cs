using System.Buffers.Binary;
using Iced.Intel;
using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu.Semantics;

/// <summary>
/// XSAVE, XSAVEOPT, XSAVEC and XRSTOR (Intel SDM vol. 1, chapter 13; vol. 2, the instructions) over the components
/// <see cref="XsaveLayout"/> describes: x87, SSE and PKRU. RFBM = EDX:EAX AND XCR0. The whole area is read into a
/// buffer and checked before anything changes, so a fault leaves registers and memory as they were.
/// XSAVEOPT uses neither the init nor the modified optimization (both are optional: it stores what XSAVE stores).
/// </summary>
internal static class Xsave
{
    /// <summary>#UD without CR4.OSXSAVE, #NM with CR0.TS, #GP(0) unless 64-byte aligned. Returns the area's linear address.</summary>
    private static bool Enter(Cpu c, ref DecodedOp op, out ulong la)
    {
        la = 0;
        if ((c.Cr4 & ControlBits.Cr4OSXSAVE) == 0) { c.RaiseFault(Vector.UD); return false; }
        if ((c.Cr0 & ControlBits.Cr0TS) != 0) { c.RaiseFault(Vector.NM); return false; }
        la = c.OperandLinear(ref op);
        if ((la & 63) != 0) { c.RaiseFault(Vector.GP, 0); return false; }
        return true;
    }

    private static ulong Rfbm(Cpu c) => (((c.Gpr[Cpu.RDX] & 0xFFFF_FFFF) << 32) | (uint)c.Gpr[Cpu.RAX]) & c.Xcr0;

    private static bool Wide(ref DecodedOp op) => op.Insn.Mnemonic is Mnemonic.Xsave64 or Mnemonic.Xsaveopt64
        or Mnemonic.Xsavec64 or Mnemonic.Xrstor64;

    private static bool ReadArea(Cpu c, ulong la, Span<byte> area)
    {
        for (int i = 0; i < area.Length; i += 8) BinaryPrimitives.WriteUInt64LittleEndian(area[i..], c.ReadLinear(la + (ulong)i, 8));
        return !c.Faulted;
    }

    private static void WriteArea(Cpu c, ulong la, ReadOnlySpan<byte> area)
    {
        for (int i = 0; i < area.Length; i += 8) c.WriteLinear(la + (ulong)i, 8, BinaryPrimitives.ReadUInt64LittleEndian(area[i..]));
    }

    /// <summary>The x87 part of the legacy region: bytes 23:0 and 159:32 (bytes 31:24 are MXCSR and its mask).</summary>
    private static void StoreX87(Cpu c, Span<byte> area, bool wide)
    {
        Span<byte> x87 = stackalloc byte[160];
        X87Environment.SaveFxArea(c, x87, wide);
        x87[..24].CopyTo(area);
        x87[32..160].CopyTo(area[32..]);
    }

    private static void StoreSse(Cpu c, Span<byte> area)
    {
        int count = c.Is64 ? 16 : 8;
        for (int r = 0; r < count; r++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(area[(160 + r * 16)..], c.XmmRegs[r].Lo);
            BinaryPrimitives.WriteUInt64LittleEndian(area[(168 + r * 16)..], c.XmmRegs[r].Hi);
        }
    }

    private static void StoreMxcsr(Cpu c, Span<byte> area)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(area[24..], c.Mxcsr);
        BinaryPrimitives.WriteUInt32LittleEndian(area[28..], 0xFFFF);
    }

    /// <summary>XSAVE/XSAVE64 and XSAVEOPT/XSAVEOPT64, standard format (SDM vol. 1, 13.7): component i is stored when
    /// RFBM[i] = 1; MXCSR with RFBM[1]; XSTATE_BV[i] = XINUSE[i] for i in RFBM, other header bytes untouched.</summary>
    public static void Save(Cpu c, ref DecodedOp op)
    {
        if (!Enter(c, ref op, out ulong la)) return;
        ulong rfbm = Rfbm(c);
        int size = (int)XsaveLayout.StandardSize(rfbm);
        if (!c.ProbeWrite(la, size)) return;
        Span<byte> area = stackalloc byte[size];
        if (!ReadArea(c, la, area)) return;
        if ((rfbm & XsaveLayout.X87) != 0) StoreX87(c, area, Wide(ref op));
        if ((rfbm & XsaveLayout.Sse) != 0) { StoreSse(c, area); StoreMxcsr(c, area); }
        if ((rfbm & XsaveLayout.Pkru) != 0) BinaryPrimitives.WriteUInt32LittleEndian(area[XsaveLayout.PkruStandardOffset..], c.Pkru);
        ulong bv = BinaryPrimitives.ReadUInt64LittleEndian(area[XsaveLayout.HeaderOffset..]);
        BinaryPrimitives.WriteUInt64LittleEndian(area[XsaveLayout.HeaderOffset..], (bv & ~rfbm) | (c.XInUse & rfbm));
        WriteArea(c, la, area);
    }

    /// <summary>XSAVEC/XSAVEC64, compacted format (SDM vol. 2, XSAVEC): only components in use are stored (SSE also
    /// when MXCSR is not 1F80H, which XINUSE[1] includes here); XSTATE_BV = RFBM AND XINUSE, XCOMP_BV = RFBM | 2^63;
    /// extended components follow in index order from byte 576 whether stored or not.</summary>
    public static void SaveCompacted(Cpu c, ref DecodedOp op)
    {
        if (!Enter(c, ref op, out ulong la)) return;
        ulong rfbm = Rfbm(c);
        ulong save = rfbm & c.XInUse;
        int size = (int)XsaveLayout.CompactedSize(rfbm);
        if (!c.ProbeWrite(la, size)) return;
        Span<byte> area = stackalloc byte[size];
        if (!ReadArea(c, la, area)) return;
        if ((save & XsaveLayout.X87) != 0) StoreX87(c, area, Wide(ref op));
        if ((save & XsaveLayout.Sse) != 0) { StoreSse(c, area); StoreMxcsr(c, area); }
        if ((save & XsaveLayout.Pkru) != 0)
            BinaryPrimitives.WriteUInt32LittleEndian(area[XsaveLayout.CompactedOffset(9, rfbm)..], c.Pkru);
        BinaryPrimitives.WriteUInt64LittleEndian(area[XsaveLayout.HeaderOffset..], save);
        BinaryPrimitives.WriteUInt64LittleEndian(area[(XsaveLayout.HeaderOffset + 8)..], rfbm | (1UL << 63));
        WriteArea(c, la, area);
    }

    /// <summary>
    /// XRSTOR/XRSTOR64 (SDM vol. 1, 13.8). Standard form (XCOMP_BV[63] = 0): #GP(0) if XSTATE_BV has a bit not in
    /// XCR0 or header bytes 23:8 are not zero; MXCSR is loaded whenever RFBM[1] = 1. Compacted form: #GP(0) without
    /// XSAVEC support, if XCOMP_BV[62:0] has a bit not in XCR0, if XSTATE_BV has a bit not in XCOMP_BV, or if header
    /// bytes 63:16 are not zero; MXCSR is 1F80H when XSTATE_BV[1] = 0. Either form: a component i in RFBM is loaded
    /// when XSTATE_BV[i] = 1 and put in its initial configuration otherwise; a reserved MXCSR bit is #GP(0).
    /// </summary>
    public static void Restore(Cpu c, ref DecodedOp op)
    {
        if (!Enter(c, ref op, out ulong la)) return;
        Span<byte> header = stackalloc byte[64];
        if (!ReadArea(c, la + XsaveLayout.HeaderOffset, header)) return;
        ulong xstateBv = BinaryPrimitives.ReadUInt64LittleEndian(header);
        ulong xcompBv = BinaryPrimitives.ReadUInt64LittleEndian(header[8..]);
        bool compacted = (xcompBv >> 63) != 0;
        ulong reserved = 0;
        for (int i = compacted ? 16 : 8; i < (compacted ? 64 : 24); i += 8) reserved |= BinaryPrimitives.ReadUInt64LittleEndian(header[i..]);
        ulong layout = xcompBv & ~(1UL << 63);
        bool bad = compacted
            ? !c.Model.Has(CpuFeature.Xsavec) || (layout & ~c.Xcr0) != 0 || (xstateBv & ~layout) != 0 || reserved != 0
            : (xstateBv & ~c.Xcr0) != 0 || reserved != 0;
        if (bad) { c.RaiseFault(Vector.GP, 0); return; }

        ulong rfbm = Rfbm(c);
        Span<byte> legacy = stackalloc byte[512];
        if ((rfbm & (XsaveLayout.X87 | XsaveLayout.Sse)) != 0 && !ReadArea(c, la, legacy)) return;
        uint pkru = 0;
        if ((rfbm & xstateBv & XsaveLayout.Pkru) != 0)
        {
            int at = compacted ? XsaveLayout.CompactedOffset(9, layout) : XsaveLayout.PkruStandardOffset;
            pkru = (uint)c.ReadLinear(la + (ulong)at, 4);
            if (c.Faulted) return;
        }
        bool loadMxcsr = (rfbm & XsaveLayout.Sse) != 0 && (!compacted || (xstateBv & XsaveLayout.Sse) != 0);
        uint mxcsr = loadMxcsr ? BinaryPrimitives.ReadUInt32LittleEndian(legacy[24..]) : 0x1F80;
        if ((mxcsr & ~0xFFFFu) != 0) { c.RaiseFault(Vector.GP, 0); return; }

        if ((rfbm & XsaveLayout.X87) != 0)
        {
            if ((xstateBv & XsaveLayout.X87) != 0) X87Environment.RestoreFxArea(c, legacy[..160], Wide(ref op));
            else
            {
                // Initial configuration (SDM vol. 1, 13.6): FCW 037FH, FSW 0, FTW empty, pointers 0, ST0-7 zero.
                c.Fpu = new X87State { ControlWord = 0x037F, TagWord = 0xFFFF };
                c.SetFerr(false);
            }
        }
        if ((rfbm & XsaveLayout.Sse) != 0)
        {
            c.Mxcsr = mxcsr;
            int count = c.Is64 ? 16 : 8;
            for (int r = 0; r < count; r++)
                c.XmmRegs[r] = (xstateBv & XsaveLayout.Sse) != 0
                    ? new Xmm(BinaryPrimitives.ReadUInt64LittleEndian(legacy[(160 + r * 16)..]), BinaryPrimitives.ReadUInt64LittleEndian(legacy[(168 + r * 16)..]))
                    : default;
        }
        if ((rfbm & XsaveLayout.Pkru) != 0) c.SetPkru(pkru);
    }
}
