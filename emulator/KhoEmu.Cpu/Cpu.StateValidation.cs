using System.Runtime.CompilerServices;
using KhoEmu.Core.State;
using KhoEmu.Cpu.Flags;
using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu;

/// <summary>
/// <see cref="ValidateState"/>: the checks that keep a loaded <see cref="CpuState"/> one this CPU could have reached.
/// A snapshot is raw bytes, so anything the run loop and the semantics rely on (enum values, small integer ranges,
/// bools that are 0 or 1, the mode agreeing with CR0/EFER/CS) is checked before the state is loaded; so are the
/// invariants MOV CR, WRMSR and XSETBV enforce, because a state breaking them would behave unlike any real CPU.
/// </summary>
public sealed partial class Cpu
{
    /// <summary>Throws <see cref="SnapshotFormatException"/> naming the first thing in <paramref name="state"/> this
    /// CPU could not load; changes nothing.</summary>
    public void ValidateState(CpuState state)
    {
        if (StateProblem(in state) is { } why) throw new SnapshotFormatException($"CPU state: {why}");
    }

    private string? StateProblem(in CpuState s)
    {
        if (s.ModelId != CpuState.ModelIdOf(Model))
        {
            ulong id = s.ModelId;
            string? other = CpuModels.All.FirstOrDefault(m => CpuState.ModelIdOf(m) == id)?.Name;
            return $"saved on CPU model {(other is null ? $"with id 0x{s.ModelId:x16}" : $"'{other}'")}, "
                + $"this machine has '{Model.Name}' (use the same -cpu)";
        }
        if ((NotBool(s.LazyCarryIn) ?? NotBool(s.Halted) ?? NotBool(s.WaitForSipi) ?? NotBool(s.NmiPending)
            ?? NotBool(s.NmiBlocked) ?? NotBool(s.TripleFault) ?? NotBool(s.FerrAsserted)) is { } b)
            return $"a flag byte holds {b}, not 0 or 1";
        if (s.Mode > CpuMode.Long64) return $"unknown CPU mode {(byte)s.Mode}";
        if (s.LazyOp > FlagOp.Dec) return $"unknown lazy-flag operation {(byte)s.LazyOp}";
        if (s.LazyOp != FlagOp.None ? s.LazySize is not (1 or 2 or 4 or 8) : s.LazySize is not (0 or 1 or 2 or 4 or 8))
            return $"lazy-flag operand size {s.LazySize}";
        if ((uint)s.Cpl > 3) return $"CPL {s.Cpl}";
        if (s.Mode == CpuMode.Real16 && s.Cpl != 0) return $"CPL {s.Cpl} in real mode";
        if (s.Shadow is < 0 or > ShadowMovSs || s.ShadowRequest is < 0 or > ShadowMovSs)
            return $"interrupt shadow {s.Shadow}/{s.ShadowRequest}";
        if ((s.Rflags & Rflags.Reserved1) == 0 || (s.Rflags & ~(Rflags.Writable | Rflags.VM | Rflags.VIF | Rflags.VIP)
            & ~Rflags.Reserved1) != 0)
            return $"RFLAGS 0x{s.Rflags:x} has reserved bits wrong";
        return ControlProblem(in s) ?? ModeProblem(in s) ?? RegisterProblem(in s) ?? MsrProblem(in s);
    }

    private static byte? NotBool(bool v)
    {
        byte b = Unsafe.As<bool, byte>(ref v);
        return b > 1 ? b : null;
    }

    /// <summary>CR0, CR4, CR8, EFER and XCR0 as MOV CR, WRMSR and XSETBV leave them on this model.</summary>
    private string? ControlProblem(in CpuState s)
    {
        if ((s.Cr0 >> 32) != 0 || (s.Cr0 & ControlBits.Cr0ET) == 0) return $"CR0 0x{s.Cr0:x}";
        if ((s.Cr0 & ControlBits.Cr0PG) != 0 && (s.Cr0 & ControlBits.Cr0PE) == 0) return "CR0.PG set without CR0.PE";
        if ((s.Cr0 & ControlBits.Cr0NW) != 0 && (s.Cr0 & ControlBits.Cr0CD) == 0) return "CR0.NW set without CR0.CD";
        if ((s.Cr4 & ~Cr4Allowed) != 0) return $"CR4 0x{s.Cr4:x} has bits model '{Model.Name}' does not support";
        if (s.Cr8 > 0xF) return $"CR8 0x{s.Cr8:x}";
        ulong efer = Msr.EferSce | Msr.EferLme | Msr.EferLma | (Model.Has(CpuFeature.Nx) ? Msr.EferNxe : 0);
        if ((s.Efer & ~efer) != 0) return $"EFER 0x{s.Efer:x} has bits model '{Model.Name}' does not support";
        bool lma = (s.Efer & Msr.EferLma) != 0;
        if (lma != ((s.Efer & Msr.EferLme) != 0 && (s.Cr0 & ControlBits.Cr0PG) != 0))
            return "EFER.LMA disagrees with EFER.LME and CR0.PG";
        if (lma && (s.Cr4 & ControlBits.Cr4PAE) == 0) return "long mode active without CR4.PAE";
        ulong xcr0 = XsaveLayout.Supported(Model) | XsaveLayout.X87;
        if ((s.Xcr0 & XsaveLayout.X87) == 0 || (s.Xcr0 & ~xcr0) != 0) return $"XCR0 0x{s.Xcr0:x}";
        if ((s.Mxcsr >> 16) != 0) return $"MXCSR 0x{s.Mxcsr:x} has reserved bits set";
        return null;
    }

    /// <summary>The mode <see cref="UpdateMode"/> would compute, CPL and RIP against it.</summary>
    private static string? ModeProblem(in CpuState s)
    {
        var cs = s.Seg[SegReg.CS];
        CpuMode m = (s.Cr0 & ControlBits.Cr0PE) == 0 ? CpuMode.Real16
            : (s.Efer & Msr.EferLma) != 0 ? cs.Long ? CpuMode.Long64 : cs.Big ? CpuMode.Compat32 : CpuMode.Compat16
            : cs.Big ? CpuMode.Protected32 : CpuMode.Protected16;
        if (m != s.Mode) return $"mode {s.Mode} disagrees with CR0.PE, EFER.LMA and CS.L/D, which give {m}";
        if (m == CpuMode.Long64 ? !IsCanonical(s.Rip) : (s.Rip >> 32) != 0) return $"RIP 0x{s.Rip:x} in mode {m}";
        return null;
    }

    private static string? RegisterProblem(in CpuState s)
    {
        if ((s.Dr[6] & Dr6Fixed1) != Dr6Fixed1 || (s.Dr[6] & ~(Dr6Fixed1 | Dr6Writable)) != 0) return $"DR6 0x{s.Dr[6]:x}";
        if ((s.Dr[7] & Dr7Fixed1) != Dr7Fixed1 || (s.Dr[7] & ~(Dr7Fixed1 | Dr7Writable)) != 0) return $"DR7 0x{s.Dr[7]:x}";
        if (s.Dr[4] != 0 || s.Dr[5] != 0) return "DR4/DR5 slots are not zero (they alias DR6/DR7)";
        if (((s.PendingDebugTrap | s.DataHits) & ~Dr6Writable) != 0) return $"pending debug trap 0x{s.PendingDebugTrap:x}";
        if (s.Fpu.LastOpcode > 0x7FF) return $"x87 last opcode 0x{s.Fpu.LastOpcode:x} (11 bits)";
        if (!IsCanonical(s.Seg[SegReg.FS].Base) || !IsCanonical(s.Seg[SegReg.GS].Base)) return "FS/GS base not canonical";
        return null;
    }

    /// <summary>The MSR slots hold only what WRMSR accepts (SDM vol. 4, table 2-2).</summary>
    private string? MsrProblem(in CpuState s)
    {
        ref readonly var m = ref s.Msrs;
        if (!IsCanonical(m.Lstar) || !IsCanonical(m.Cstar) || !IsCanonical(m.KernelGsBase) || !IsCanonical(m.SysenterEsp)
            || !IsCanonical(m.SysenterEip))
            return "an MSR holding a linear address (LSTAR, CSTAR, KERNEL_GS_BASE, SYSENTER_ESP/EIP) is not canonical";
        if ((m.MtrrDefType & ~0xCFFUL) != 0) return $"IA32_MTRR_DEF_TYPE 0x{m.MtrrDefType:x} has reserved bits set";
        if ((m.AmdHwcr & HwcrTscFreqSel) == 0) return "HWCR.TscFreqSel is clear (it reads 1)";
        if ((m.MiscEnable & Msr.MiscMonitorEnable) != 0) return "IA32_MISC_ENABLE.ENABLE_MONITOR_FSM is set (no MONITOR/MWAIT)";
        if (!Model.Has(CpuFeature.Pks) && s.Pkrs != 0) return $"IA32_PKRS 0x{s.Pkrs:x} on a model without PKS";
        if (!Model.Has(CpuFeature.Pku) && s.Pkru != 0) return $"PKRU 0x{s.Pkru:x} on a model without PKU";
        return null;
    }
}
