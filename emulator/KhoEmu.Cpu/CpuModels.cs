using static KhoEmu.Cpu.CpuFeature;

namespace KhoEmu.Cpu;

/// <summary>
/// The CPU models <c>-cpu NAME</c> selects. Each is a QEMU model (name, vendor, family/model/stepping, brand string
/// and maximum leaves as QEMU 7.2 has them) reduced to the features this CPU implements: QEMU's feature list for the
/// model intersected with <see cref="CpuFeature"/>, plus the hypervisor bit. Documented in docs/cpu.md.
/// </summary>
public static class CpuModels
{
    /// <summary>Features every model has: what an x86-64 Linux needs and this CPU implements.</summary>
    private static readonly CpuFeature[] Common =
    [
        Pse, Tsc, Msr, Pae, Cx8, Apic, Mtrr, Pge, Cmov, Pat, Clflush, Fxsr, Sse, Sse2, Cx16, Hypervisor,
        Syscall, Nx, LongMode, LahfLm, Fpu, De,
    ];

    /// <summary>
    /// QEMU's Denverton-v1 (Atom C3000, Goldmont): GenuineIntel family 6 model 95 stepping 1, max leaf 15h. The
    /// default: an Intel family-6 part Linux knows, with RDRAND, RDSEED, FSGSBASE and RDTSCP, and QEMU's
    /// arch-capabilities for it (RDCL_NO: not affected by Meltdown, SKIP_L1DFL_VMENTRY). QEMU's Denverton also has
    /// SSE3, XSAVE (XSAVEOPT, XSAVEC, XGETBV1), SMEP and SMAP, which are implemented now but deliberately not added:
    /// the default model's boot path stays as it was measured (docs/cpu.md). x2APIC is advertised: QEMU's Denverton
    /// lists it and TCG implements it since QEMU 8.1 (QEMU 7.2's TCG filtered it out).
    /// </summary>
    public static CpuModel Denverton { get; } = new("Denverton", CpuModel.Intel, 6, 95, 1, "Intel Atom Processor (Denverton)",
        0x15, 0x8000_0008, [.. Common, Popcnt, Rdrand, Fsgsbase, Erms, Rdseed, ArchCapabilities, Page1G, Rdtscp, Prefetchw, X2apic])
    {
        ArchCapabilities = (1UL << 0) | (1UL << 3),
    };

    /// <summary>QEMU's default qemu64: AuthenticAMD family 15 model 107 stepping 1, "QEMU Virtual CPU version 2.5+",
    /// with its SSE3. Its SVM is not implemented here, so it is not advertised.</summary>
    public static CpuModel Qemu64 { get; } = new("qemu64", CpuModel.Amd, 15, 107, 1, "QEMU Virtual CPU version 2.5+",
        0xD, 0x8000_000A, [.. Common, Sse3]);

    /// <summary>
    /// QEMU's <c>max</c> as TCG defines it (AuthenticAMD family 15 model 107 stepping 1, "QEMU TCG CPU version
    /// 2.5+"): every feature this CPU implements and nothing else. Basic leaves up to 0Dh (XSAVE), extended up to
    /// 8000_0008h. With x2APIC, which QEMU 8.1+'s TCG has, and so leaf 0Bh.
    /// </summary>
    public static CpuModel Max { get; } = new("max", CpuModel.Amd, 15, 107, 1, "QEMU TCG CPU version 2.5+",
        0xD, 0x8000_0008,
        [
            .. Common, Sse3, Popcnt, Xsave, Rdrand, Fsgsbase, Smep, Erms, Rdseed, Smap, Page1G, Rdtscp, Lzcnt,
            Prefetchw, Pku, Pks, Rdpid, Xsaveopt, Xsavec, Xgetbv1, X2apic,
        ]);

    /// <summary>QEMU's EPYC-v1 (Zen, Naples): AuthenticAMD family 23 model 1 stepping 2, max leaves 0Dh and
    /// 8000_001Eh. Of its features this CPU implements POPCNT, RDRAND, RDSEED, FSGSBASE, RDTSCP, 1 GiB pages and
    /// PREFETCHW; its SSE3-AVX2, XSAVE, SMEP/SMAP, SVM, TOPOEXT and the rest are not advertised.</summary>
    public static CpuModel Epyc { get; } = new("EPYC", CpuModel.Amd, 23, 1, 2, "AMD EPYC Processor",
        0xD, 0x8000_001E, [.. Common, Popcnt, Rdrand, Fsgsbase, Rdseed, Page1G, Rdtscp, Prefetchw]);

    public static CpuModel Default => Denverton;

    public static IReadOnlyList<CpuModel> All { get; } = [Denverton, Qemu64, Epyc, Max];

    /// <summary>The model named <paramref name="name"/> (case-insensitive; QEMU's versioned names "-v1" accepted).</summary>
    public static CpuModel? Find(string name)
    {
        foreach (var m in All)
            if (string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase)
                || string.Equals(m.Name + "-v1", name, StringComparison.OrdinalIgnoreCase)) return m;
        return null;
    }

    /// <summary>The <c>-cpu help</c> listing, one model per line, the default marked.</summary>
    public static string Help() => string.Join('\n', All.Select(m =>
        $"x86 {m.Name,-16}  {m.Brand} ({m.Vendor} family {m.Family} model {m.Model} stepping {m.Stepping}){(m == Default ? " [default]" : "")}"));
}
