using Iced.Intel;

namespace KhoEmu.Cpu.Dispatch;

/// <summary>
/// The one table from instruction to the CPUID feature it needs, built from Iced's per-<see cref="Code"/> CPUID
/// feature list (<see cref="InstructionInfoExtensions.CpuidFeatures(Code)"/>) and consulted when an instruction is
/// decoded, so it costs nothing per execution. An instruction whose features the CPU model does not all advertise is
/// an invalid opcode (#UD), as on a processor without the feature; only an advertised instruction without a handler
/// stops the machine. Conditions that depend on software state (CR4.OSXSAVE, CR4.PKE, CR4.PCE, CPL, XCR0) stay in
/// the handlers.
/// </summary>
internal static class FeatureGate
{
    /// <summary>Iced features every model has (the base architecture) or that are hints executing as NOPs on processors
    /// without them (multi-byte NOP, PAUSE, ENDBR, the 0F 0D prefetches, CLDEMOTE).</summary>
    private const int Base = -1;
    /// <summary>An Iced feature with no <see cref="CpuFeature"/>: no model can advertise it.</summary>
    private const int Never = -2;

    /// <summary>Per <see cref="Code"/>: the model features it needs, or null when one of them can never be advertised.</summary>
    private static readonly CpuFeature[]?[] Required = Build();

    private static CpuFeature[]?[] Build()
    {
        var codes = Enum.GetValues<Code>();
        var table = new CpuFeature[]?[codes.Length];
        foreach (var code in codes)
        {
            var need = new List<CpuFeature>(2);
            bool never = false;
            foreach (var f in code.CpuidFeatures())
            {
                int m = Map(code, f);
                if (m == Never) never = true;
                else if (m != Base) need.Add((CpuFeature)m);
            }
            table[(int)code] = never ? null : [.. need];
        }
        return table;
    }

    /// <summary>True when <paramref name="model"/> advertises every feature <paramref name="code"/> needs.</summary>
    public static bool Advertised(CpuModel model, Code code)
    {
        var need = Required[(int)code];
        if (need is null) return false;
        foreach (var f in need)
            if (!model.Has(f)) return false;
        return true;
    }

    /// <summary>The features <paramref name="code"/> needs, for diagnostics and tests; null when no model can have them.</summary>
    public static IReadOnlyList<CpuFeature>? Features(Code code) => Required[(int)code];

    private static int Map(Code code, CpuidFeature f) => f switch
    {
        CpuidFeature.INTEL8086 or CpuidFeature.INTEL186 or CpuidFeature.INTEL286 or CpuidFeature.INTEL386
            or CpuidFeature.INTEL486 or CpuidFeature.X64 or CpuidFeature.CPUID or CpuidFeature.FPU287
            or CpuidFeature.FPU387 => Base,
        // RDPMC exists on every processor since the Pentium Pro; CR4.PCE, CPL and ECX decide (#GP) in its handler.
        CpuidFeature.RDPMC => Base,
        // MMX is part of x86-64 (AMD APM vol. 1, 1.1: every AMD64 processor has it) and software relies on it without
        // asking CPUID (Linux's AMD FPU-leak workaround executes EMMS). CPUID does not advertise it because the MMX
        // register file is not modelled: EMMS is implemented, the other MMX forms stop the machine.
        CpuidFeature.MMX => Base,
        // Hint-space encodings: NOPs where the feature is absent (SDM vol. 2B, NOP, PAUSE, ENDBR, CLDEMOTE; PREFETCHW
        // is a NOP on Intel processors without it, as QEMU treats 0F 0D).
        CpuidFeature.MULTIBYTENOP or CpuidFeature.PAUSE or CpuidFeature.CET_IBT or CpuidFeature.PREFETCHW
            or CpuidFeature.PREFETCHWT1 or CpuidFeature.CLDEMOTE => Base,
        // RDSSPD/RDSSPQ are NOPs while shadow stacks are not enabled (F3 0F 1E /1, SDM vol. 2B); the other CET-SS
        // instructions are #UD.
        CpuidFeature.CET_SS when code.Mnemonic() is Mnemonic.Rdsspd or Mnemonic.Rdsspq => Base,
        // TZCNT without BMI1 and LZCNT without LZCNT execute as BSF/BSR (the F3 prefix is ignored); their handlers do.
        CpuidFeature.BMI1 when code.Mnemonic() == Mnemonic.Tzcnt => Base,
        CpuidFeature.LZCNT => Base,
        CpuidFeature.FPU => (int)CpuFeature.Fpu,
        CpuidFeature.TSC => (int)CpuFeature.Tsc,
        CpuidFeature.MSR => (int)CpuFeature.Msr,
        CpuidFeature.CX8 => (int)CpuFeature.Cx8,
        CpuidFeature.CMOV => (int)CpuFeature.Cmov,
        CpuidFeature.CLFSH => (int)CpuFeature.Clflush,
        CpuidFeature.FXSR => (int)CpuFeature.Fxsr,
        CpuidFeature.SSE => (int)CpuFeature.Sse,
        CpuidFeature.SSE2 => (int)CpuFeature.Sse2,
        CpuidFeature.SSE3 => (int)CpuFeature.Sse3,
        CpuidFeature.CMPXCHG16B => (int)CpuFeature.Cx16,
        CpuidFeature.POPCNT => (int)CpuFeature.Popcnt,
        CpuidFeature.XSAVE => (int)CpuFeature.Xsave,
        CpuidFeature.XSAVEOPT => (int)CpuFeature.Xsaveopt,
        CpuidFeature.XSAVEC => (int)CpuFeature.Xsavec,
        CpuidFeature.RDRAND => (int)CpuFeature.Rdrand,
        CpuidFeature.RDSEED => (int)CpuFeature.Rdseed,
        CpuidFeature.FSGSBASE => (int)CpuFeature.Fsgsbase,
        CpuidFeature.BMI1 => (int)CpuFeature.Bmi1,
        CpuidFeature.SMAP => (int)CpuFeature.Smap,
        CpuidFeature.PKU => (int)CpuFeature.Pku,
        CpuidFeature.RDPID => (int)CpuFeature.Rdpid,
        CpuidFeature.SYSCALL => (int)CpuFeature.Syscall,
        CpuidFeature.RDTSCP => (int)CpuFeature.Rdtscp,
        // Everything else (SSSE3 and later, AVX, VMX, SVM, MONITOR, SEP, INVPCID, RDPRU, XSAVES, ...) is not in
        // CpuFeature because it is not implemented, so no model advertises it.
        _ => Never,
    };
}
