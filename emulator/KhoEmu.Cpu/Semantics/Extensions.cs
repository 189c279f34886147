using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu.Semantics;

/// <summary>
/// STAC/CLAC (SMAP), RDPKRU/WRPKRU (PKU), RDPID, RDPMC and XGETBV/XSETBV (Intel SDM vol. 2). Whether the model has
/// the feature at all is decided at decode time (<see cref="Dispatch.FeatureGate"/>); these check what depends on
/// software state.
/// </summary>
internal static class Extensions
{
    /// <summary>EMMS: all x87 tags empty (FFFFh). #UD with CR0.EM, #NM with CR0.TS, #MF for a pending unmasked x87
    /// exception (FERR# with CR0.NE = 0), as for a waiting x87 instruction (SDM vol. 2A, EMMS).</summary>
    public static void Emms(Cpu c, ref DecodedOp op)
    {
        if ((c.Cr0 & ControlBits.Cr0EM) != 0) { c.RaiseFault(Vector.UD); return; }
        if (!X87Core.Begin(c)) return;
        c.Fpu.TagWord = 0xFFFF;
    }

    /// <summary>STAC/CLAC: set/clear EFLAGS.AC; #UD at CPL > 0 and in virtual-8086 mode.</summary>
    public static void Stac(Cpu c, ref DecodedOp op) => SetAc(c, true);
    public static void Clac(Cpu c, ref DecodedOp op) => SetAc(c, false);

    private static void SetAc(Cpu c, bool on)
    {
        if (c.Cpl != 0) { c.RaiseFault(Vector.UD); return; }
        c.SetFlag(Rflags.AC, on);
    }

    /// <summary>RDPKRU: EAX = PKRU, EDX = 0; #UD without CR4.PKE, #GP(0) when ECX is not 0.</summary>
    public static void Rdpkru(Cpu c, ref DecodedOp op)
    {
        if ((c.Cr4 & ControlBits.Cr4PKE) == 0) { c.RaiseFault(Vector.UD); return; }
        if ((uint)c.Gpr[Cpu.RCX] != 0) { c.RaiseFault(Vector.GP, 0); return; }
        c.Gpr[Cpu.RAX] = c.Pkru;
        c.Gpr[Cpu.RDX] = 0;
    }

    /// <summary>WRPKRU: PKRU = EAX; #UD without CR4.PKE, #GP(0) when ECX or EDX is not 0. Any CPL.</summary>
    public static void Wrpkru(Cpu c, ref DecodedOp op)
    {
        if ((c.Cr4 & ControlBits.Cr4PKE) == 0) { c.RaiseFault(Vector.UD); return; }
        if ((uint)c.Gpr[Cpu.RCX] != 0 || (uint)c.Gpr[Cpu.RDX] != 0) { c.RaiseFault(Vector.GP, 0); return; }
        c.SetPkru((uint)c.Gpr[Cpu.RAX]);
    }

    /// <summary>RDPID r32/r64: IA32_TSC_AUX, zero-extended; unlike RDTSCP not affected by CR4.TSD.</summary>
    public static void Rdpid(Cpu c, ref DecodedOp op) =>
        c.SetReg(op.R0, op.Size, (uint)c.ReadMsrValue(Msr.TscAux));

    /// <summary>
    /// RDPMC: #GP(0) at CPL > 0 without CR4.PCE (SDM vol. 2B, RDPMC), and #GP(0) for a counter the processor does not
    /// have. Intel models enumerate no architectural PMU (CPUID leaf 0Ah is zero), so every ECX is invalid; AMD models
    /// read the legacy counters PerfCtr0-3 (ECX 0-3, MSRs C001_0004h-C001_0007h) where the machine provides them.
    /// </summary>
    public static void Rdpmc(Cpu c, ref DecodedOp op)
    {
        if ((c.Cr4 & ControlBits.Cr4PCE) == 0 && c.Cpl != 0) { c.RaiseFault(Vector.GP, 0); return; }
        uint ecx = (uint)c.Gpr[Cpu.RCX];
        if (c.Model.IsIntel || ecx > 3 || !c.TryReadMsr(0xC001_0004 + ecx, out ulong v)) { c.RaiseFault(Vector.GP, 0); return; }
        v &= (1UL << 48) - 1;
        c.Gpr[Cpu.RAX] = (uint)v;
        c.Gpr[Cpu.RDX] = v >> 32;
    }

    /// <summary>XGETBV: ECX 0 reads XCR0, ECX 1 (with XGETBV1) XCR0 AND XINUSE; #UD without CR4.OSXSAVE, else #GP(0).</summary>
    public static void Xgetbv(Cpu c, ref DecodedOp op)
    {
        if ((c.Cr4 & ControlBits.Cr4OSXSAVE) == 0) { c.RaiseFault(Vector.UD); return; }
        uint ecx = (uint)c.Gpr[Cpu.RCX];
        ulong v;
        if (ecx == 0) v = c.Xcr0;
        else if (ecx == 1 && c.Model.Has(CpuFeature.Xgetbv1)) v = c.Xcr0 & c.XInUse;
        else { c.RaiseFault(Vector.GP, 0); return; }
        c.Gpr[Cpu.RAX] = (uint)v;
        c.Gpr[Cpu.RDX] = v >> 32;
    }

    /// <summary>XSETBV: XCR0 = EDX:EAX (SDM vol. 1, 13.3). #UD without CR4.OSXSAVE; #GP(0) at CPL > 0, for ECX other
    /// than 0, with bit 0 (x87) clear, or with a bit the processor does not support.</summary>
    public static void Xsetbv(Cpu c, ref DecodedOp op)
    {
        if ((c.Cr4 & ControlBits.Cr4OSXSAVE) == 0) { c.RaiseFault(Vector.UD); return; }
        ulong v = ((c.Gpr[Cpu.RDX] & 0xFFFF_FFFF) << 32) | (uint)c.Gpr[Cpu.RAX];
        if (c.Cpl != 0 || (uint)c.Gpr[Cpu.RCX] != 0 || (v & XsaveLayout.X87) == 0
            || (v & ~XsaveLayout.Supported(c.Model)) != 0) { c.RaiseFault(Vector.GP, 0); return; }
        c.Xcr0 = v;
    }
}
