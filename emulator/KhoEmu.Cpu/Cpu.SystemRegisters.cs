using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu;

/// <summary>Control registers, MSRs and CPUID.</summary>
public sealed partial class Cpu
{
    /// <summary>MOV to CR0/CR3/CR4/CR8 with the checks of Intel SDM vol. 3, 2.5 and 4.1.</summary>
    internal void WriteControlRegister(int cr, ulong v)
    {
        switch (cr)
        {
            case 0:
                if ((v >> 32) != 0 || ((v & ControlBits.Cr0PG) != 0 && (v & ControlBits.Cr0PE) == 0)
                    || ((v & ControlBits.Cr0NW) != 0 && (v & ControlBits.Cr0CD) == 0))
                { RaiseFault(Vector.GP, 0); return; }
                bool pagingOn = (v & ControlBits.Cr0PG) != 0 && (Cr0 & ControlBits.Cr0PG) == 0;
                if (pagingOn && (Efer & Msr.EferLme) != 0)
                {
                    if ((Cr4 & ControlBits.Cr4PAE) == 0) { RaiseFault(Vector.GP, 0); return; }
                    Efer |= Msr.EferLma;
                }
                if ((v & ControlBits.Cr0PG) == 0) Efer &= ~Msr.EferLma;
                Cr0 = v | ControlBits.Cr0ET;
                break;
            case 2:
                Cr2 = v;
                return;
            case 3:
                Cr3 = v;
                break;
            case 4:
                if ((v & ~Cr4Allowed) != 0 || ((Efer & Msr.EferLma) != 0 && (v & ControlBits.Cr4PAE) == 0))
                { RaiseFault(Vector.GP, 0); return; }
                Cr4 = v;
                break;
            case 8:
                Cr8 = v & 0xF;
                return;
            default:
                RaiseFault(Vector.UD);
                return;
        }
        UpdateMode();
        FlushTlb();
    }

    internal ulong ReadControlRegister(int cr) => cr switch
    {
        0 => Cr0,
        2 => Cr2,
        3 => Cr3,
        4 => Cr4,
        8 => Cr8,
        _ => 0,
    };

    internal ulong ReadMsrValue(uint msr) => MsrSlot(msr);

    /// <summary>Where an MSR the CPU stores without side effects lives in the state (<see cref="CpuMsrs"/>).</summary>
    private ref ulong MsrSlot(uint msr)
    {
        switch (msr)
        {
            case Msr.Star: return ref _msrs.Star;
            case Msr.Lstar: return ref _msrs.Lstar;
            case Msr.Cstar: return ref _msrs.Cstar;
            case Msr.Sfmask: return ref _msrs.Sfmask;
            case Msr.KernelGsBase: return ref _msrs.KernelGsBase;
            case Msr.TscAux: return ref _msrs.TscAux;
            case Msr.Pat: return ref _msrs.Pat;
            case Msr.SysenterCs: return ref _msrs.SysenterCs;
            case Msr.SysenterEsp: return ref _msrs.SysenterEsp;
            case Msr.SysenterEip: return ref _msrs.SysenterEip;
            case Msr.ApicBase: return ref _msrs.ApicBase;
            default: throw new ArgumentOutOfRangeException(nameof(msr), $"MSR 0x{msr:x} has no slot in the CPU state");
        }
    }

    /// <summary>RDMSR. Unknown MSRs raise #GP as on hardware.</summary>
    internal bool TryReadMsr(uint msr, out ulong value)
    {
        switch (msr)
        {
            case Msr.Tsc: value = VirtualNow; return true;
            case Msr.Efer: value = Efer; return true;
            case Msr.FsBase: value = Seg[SegReg.FS].Base; return true;
            case Msr.GsBase: value = Seg[SegReg.GS].Base; return true;
            case Msr.Star or Msr.Lstar or Msr.Cstar or Msr.Sfmask or Msr.KernelGsBase or Msr.TscAux or Msr.Pat
                or Msr.SysenterCs or Msr.SysenterEsp or Msr.SysenterEip:
                value = ReadMsrValue(msr);
                return true;
        }
        if (TryReadModelMsr(msr, out value) || TryReadXstateMsr(msr, out value)) return true;
        if (ExtraMsrs is not null && ExtraMsrs.TryRead(msr, out value)) return true;
        if (msr == Msr.ApicBase) { value = ReadMsrValue(msr); return true; }
        value = 0;
        return false;
    }

    /// <summary>WRMSR. Unknown MSRs and reserved EFER bits raise #GP.</summary>
    internal bool TryWriteMsr(uint msr, ulong value)
    {
        switch (msr)
        {
            case Msr.Efer:
                ulong allowed = Msr.EferSce | Msr.EferLme | (NxAvailable ? Msr.EferNxe : 0);
                if ((value & ~(allowed | Msr.EferLma)) != 0) return false;
                Efer = (value & allowed) | (Efer & Msr.EferLma);
                FlushTlb();
                return true;
            case Msr.FsBase or Msr.GsBase or Msr.KernelGsBase or Msr.Lstar or Msr.Cstar or Msr.SysenterEsp
                or Msr.SysenterEip when !IsCanonical(value):
                return false; // linear addresses: #GP(0) unless canonical (SDM vol. 2B WRMSR, vol. 4 table 2-2)
            case Msr.FsBase: Seg[SegReg.FS].Base = value; return true;
            case Msr.GsBase: Seg[SegReg.GS].Base = value; return true;
            case Msr.Tsc: _idleTime += value - VirtualNow; return true;
            case Msr.Star or Msr.Lstar or Msr.Cstar or Msr.Sfmask or Msr.KernelGsBase or Msr.TscAux or Msr.Pat
                or Msr.SysenterCs or Msr.SysenterEsp or Msr.SysenterEip:
                MsrSlot(msr) = value;
                return true;
        }
        if (IsModelMsr(msr)) return TryWriteModelMsr(msr, value);
        if (TryWriteXstateMsr(msr, value, out bool xstateOk)) return xstateOk;
        if (ExtraMsrs is not null && ExtraMsrs.TryWrite(msr, value)) return true;
        if (msr == Msr.ApicBase) { _msrs.ApicBase = value; return true; }
        return false;
    }

    /// <summary>True when bits 63:47 of <paramref name="la"/> are equal (48-bit linear addresses, CPUID 8000_0008h).</summary>
    internal static bool IsCanonical(ulong la) => (ulong)((long)(la << 16) >> 16) == la;

    internal void SwapGs()
    {
        ulong k = ReadMsrValue(Msr.KernelGsBase);
        _msrs.KernelGsBase = Seg[SegReg.GS].Base;
        Seg[SegReg.GS].Base = k;
    }

    /// <summary>The time-stamp counter: virtual nanoseconds, so it is deterministic.</summary>
    internal ulong Tsc => VirtualNow;
}

public sealed partial class Cpu
{
    /// <summary>STI (<see cref="ShadowSti"/>) and MOV SS/POP SS (<see cref="ShadowMovSs"/>) delay interrupt
    /// recognition until the next instruction has run (SDM vol. 3, 6.8.3).</summary>
    internal void RequestInterruptShadow(int kind)
    {
        _shadowRequest = kind;
        _exitBlock = true;
    }
}
