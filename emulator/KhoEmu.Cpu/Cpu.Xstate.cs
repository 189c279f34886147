using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu;

/// <summary>
/// State the feature-dependent extensions add: XCR0 (SDM vol. 1, 13.3), PKRU and IA32_PKRS (SDM vol. 3, 4.6.2),
/// the CR4 bits a model allows, and the CPUID bits that reflect CR4 (OSXSAVE, OSPKE) or XCR0 (the XSAVE sizes).
/// </summary>
public sealed partial class Cpu
{
    /// <summary>IA32_PKRS (SDM vol. 4, table 2-2): the protection-key rights for supervisor pages.</summary>
    public const uint PkrsMsr = 0x6E1;

    internal ref ulong Xcr0 => ref _s.Xcr0;
    internal ref uint Pkru => ref _s.Pkru;
    internal ref uint Pkrs => ref _s.Pkrs;

    public ulong Xcr0Value => Xcr0;
    public uint PkruValue => Pkru;

    /// <summary>Power-on/INIT values (SDM vol. 3, table 9-1): XCR0 = 1, PKRU = 0, IA32_PKRS = 0.</summary>
    private void ResetExtendedState()
    {
        Xcr0 = XsaveLayout.X87;
        Pkru = 0;
        Pkrs = 0;
    }

    /// <summary>CR4 bits MOV CR4 accepts on this model: the common set plus each advertised feature's enable bit.</summary>
    internal ulong Cr4Allowed
    {
        get
        {
            ulong v = ControlBits.Cr4Supported;
            if (Model.Has(CpuFeature.Fsgsbase)) v |= ControlBits.Cr4FSGSBASE;
            if (Model.Has(CpuFeature.Xsave)) v |= ControlBits.Cr4OSXSAVE;
            if (Model.Has(CpuFeature.Smep)) v |= ControlBits.Cr4SMEP;
            if (Model.Has(CpuFeature.Smap)) v |= ControlBits.Cr4SMAP;
            if (Model.Has(CpuFeature.Pku)) v |= ControlBits.Cr4PKE;
            if (Model.Has(CpuFeature.Pks)) v |= ControlBits.Cr4PKS;
            return v;
        }
    }

    /// <summary>CPUID bits that follow software state: CPUID.1:ECX.OSXSAVE[27] = CR4.OSXSAVE, CPUID.7.0:ECX.OSPKE[4]
    /// = CR4.PKE, and the XSAVE area sizes for the current XCR0 (leaf 0Dh, EBX of sub-leaves 0 and 1).</summary>
    private void AdjustXstateCpuid(uint leaf, uint subleaf, ref (uint Eax, uint Ebx, uint Ecx, uint Edx) r)
    {
        if (leaf == 1 && (Cr4 & ControlBits.Cr4OSXSAVE) != 0) r.Ecx |= 1u << 27;
        if (leaf == 7 && subleaf == 0 && (Cr4 & ControlBits.Cr4PKE) != 0) r.Ecx |= 1u << 4;
        if (leaf == 0xD && r.Eax != 0 && subleaf == 0) r.Ebx = XsaveLayout.StandardSize(Xcr0);
        if (leaf == 0xD && subleaf == 1 && Model.Has(CpuFeature.Xsave)) r.Ebx = XsaveLayout.CompactedSize(Xcr0);
    }

    private bool TryReadXstateMsr(uint msr, out ulong value)
    {
        value = Pkrs;
        return msr == PkrsMsr && Model.Has(CpuFeature.Pks);
    }

    /// <summary>IA32_PKRS: bits 63:32 are reserved (#GP). A new value changes access rights, so cached
    /// translations go.</summary>
    private bool TryWriteXstateMsr(uint msr, ulong value, out bool ok)
    {
        ok = false;
        if (msr != PkrsMsr || !Model.Has(CpuFeature.Pks)) return false;
        if ((value >> 32) != 0) return true;
        Pkrs = (uint)value;
        FlushTlb();
        ok = true;
        return true;
    }

    /// <summary>Sets PKRU (WRPKRU, XRSTOR): the access rights of user pages change, so cached translations go.</summary>
    internal void SetPkru(uint value)
    {
        if (value == Pkru) return;
        Pkru = value;
        FlushTlb();
    }

    /// <summary>
    /// XINUSE (SDM vol. 1, 13.6): which components are not in their initial configuration. x87: FCW 037FH, FSW 0,
    /// all tags empty, FOP/FIP/FDP/FCS/FDS 0 and ST0-7 zero; SSE: XMM0-15 zero and MXCSR 1F80H; PKRU: 0. A processor may
    /// report a component in use when it is in its initial configuration, never the reverse; this one reports exactly.
    /// </summary>
    internal ulong XInUse
    {
        get
        {
            ulong r = 0;
            var f = Fpu;
            bool x87Init = f.ControlWord == 0x037F && f.StatusWord == 0 && f.AbridgedTag == 0 && f.LastOpcode == 0
                && f.LastInstructionPointer == 0 && f.LastDataPointer == 0 && f.LastInstructionSelector == 0
                && f.LastDataSelector == 0;
            for (int i = 0; i < 8 && x87Init; i++) x87Init = f.Registers[i].Significand == 0 && f.Registers[i].SignExponent == 0;
            if (!x87Init) r |= XsaveLayout.X87;
            bool sseInit = Mxcsr == 0x1F80;
            for (int i = 0; i < 16 && sseInit; i++) sseInit = XmmRegs[i].Lo == 0 && XmmRegs[i].Hi == 0;
            if (!sseInit) r |= XsaveLayout.Sse;
            if (Pkru != 0) r |= XsaveLayout.Pkru;
            return r;
        }
    }
}
