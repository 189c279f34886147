namespace KhoEmu.Cpu.State;

/// <summary>
/// The XSAVE area (Intel SDM vol. 1, 13.4): the 512-byte legacy region (x87 = component 0, SSE = component 1), the
/// 64-byte header at 512 (XSTATE_BV, XCOMP_BV) and the extended region from 576. The only extended component this
/// CPU implements is PKRU (component 9: 8 bytes, of which PKRU is the low 4), at its standard-format offset 2688
/// (what Intel processors enumerate in CPUID.(0DH, 9):EBX) and unaligned in the compacted format.
/// </summary>
public static class XsaveLayout
{
    public const ulong X87 = 1UL << 0, Sse = 1UL << 1, Pkru = 1UL << 9;
    public const int HeaderOffset = 512, ExtendedOffset = 576;
    public const int PkruSize = 8, PkruStandardOffset = 2688;

    /// <summary>The XCR0 bits a model supports: x87 and SSE with XSAVE, PKRU also with PKU.</summary>
    public static ulong Supported(CpuModel model) =>
        !model.Has(CpuFeature.Xsave) ? 0 : X87 | Sse | (model.Has(CpuFeature.Pku) ? Pkru : 0);

    /// <summary>Size of a standard-format area holding the components in <paramref name="mask"/>
    /// (CPUID.(0DH, 0):EBX for the current XCR0, ECX for all supported components).</summary>
    public static uint StandardSize(ulong mask) => (mask & Pkru) != 0 ? (uint)(PkruStandardOffset + PkruSize) : ExtendedOffset;

    /// <summary>Size of a compacted-format area for <paramref name="mask"/> (CPUID.(0DH, 1):EBX with IA32_XSS = 0).</summary>
    public static uint CompactedSize(ulong mask) => ExtendedOffset + ((mask & Pkru) != 0 ? (uint)PkruSize : 0);

    /// <summary>Offset of extended component <paramref name="i"/> in a compacted area whose XCOMP_BV is
    /// <paramref name="xcompBv"/> (SDM vol. 1, 13.4.3: components in index order from 576, none 64-byte aligned here).</summary>
    public static int CompactedOffset(int i, ulong xcompBv)
    {
        int at = ExtendedOffset;
        for (int j = 2; j < i; j++)
            if ((xcompBv & (1UL << j)) != 0) at += ComponentSize(j);
        return at;
    }

    /// <summary>Size of extended component <paramref name="i"/> (CPUID.(0DH, i):EAX); 0 for one not implemented.</summary>
    public static int ComponentSize(int i) => i == 9 ? PkruSize : 0;
}
