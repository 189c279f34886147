namespace KhoEmu.Cpu;

/// <summary>
/// CPUID leaves of a model (Intel SDM vol. 2A, CPUID; AMD APM vol. 3, appendix E), for one processor with one core
/// and one thread and APIC ID 0. Caches are QEMU's "legacy" cache descriptions (the same for every Intel model and
/// for every AMD model) so guests see what they see on QEMU. A leaf above the maximum returns the highest basic
/// leaf, as Intel documents and QEMU does.
/// </summary>
public sealed partial class CpuModel
{
    private uint Word(int i) => _features[i];

    /// <summary>CPUID with EAX = <paramref name="leaf"/>, ECX = <paramref name="subleaf"/>.</summary>
    public (uint Eax, uint Ebx, uint Ecx, uint Edx) Query(uint leaf, uint subleaf)
    {
        if (leaf >= 0x8000_0000 ? leaf > MaxExtendedLeaf : leaf > MaxBasicLeaf) leaf = MaxBasicLeaf;
        switch (leaf)
        {
            case 0:
                return (MaxBasicLeaf, Chars(Vendor, 0), Chars(Vendor, 8), Chars(Vendor, 4));
            case 1:
                // EBX: APIC ID 0 (31:24), one logical processor (23:16; HTT clear), CLFLUSH line 8 × 8 = 64 bytes.
                return (Signature, 0x0001_0800, Word(1), Word(0));
            case 2 when IsIntel:
                // One iteration; descriptor FFh: "no cache descriptors here, use leaf 4".
                return (0x0000_FF01, 0, 0, 0);
            case 4 when IsIntel:
                return CacheLeaf4(subleaf);
            case 6:
                return (IsIntel ? 1u << 2 : 0, 0, 0, 0); // ARAT: the APIC timer runs in virtual time, never stopped
            case 7:
                return subleaf == 0 ? (0, Word(2), Word(6), Word(3)) : (0u, 0u, 0u, 0u);
            case 0xD:
                return XsaveLeaf(subleaf);
            case 0xB when IsIntel || Has(CpuFeature.X2apic):
                // x2APIC topology (SDM vol. 3, 9.9): SMT level with 1 thread, core level with 1 core, then invalid.
                // EDX is the x2APIC ID (0 here; Cpu.ApplyTopology puts the processor's own). An AMD model answers it
                // too when it has x2APIC, as QEMU does for every vendor.
                return subleaf switch
                {
                    0 => (0u, 1u, 0x100u | subleaf, 0u),
                    1 => (0u, 1u, 0x200u | subleaf, 0u),
                    _ => (0u, 0u, subleaf & 0xFF, 0u),
                };
            case 0x15 when IsIntel:
                // TSC = 25 MHz crystal × 40 / 1 = 1 GHz: the TSC counts virtual nanoseconds.
                return (1, 40, 25_000_000, 0);
            case 0x8000_0000:
                return IsIntel ? (MaxExtendedLeaf, 0u, 0u, 0u) : (MaxExtendedLeaf, Chars(Vendor, 0), Chars(Vendor, 8), Chars(Vendor, 4));
            case 0x8000_0001:
                // AMD repeats the leaf-1 EDX bits it shares (0-9, 12-17, 23, 24) here; Intel leaves EAX and them zero.
                return IsIntel ? (0u, 0u, Word(5), Word(4)) : (Signature, 0u, Word(5), Word(4) | (Word(0) & 0x0183_F3FF));
            case 0x8000_0002 or 0x8000_0003 or 0x8000_0004:
            {
                string b = Brand.PadRight(48, '\0');
                int o = (int)(leaf - 0x8000_0002) * 16;
                return (Chars(b, o), Chars(b, o + 4), Chars(b, o + 8), Chars(b, o + 12));
            }
            case 0x8000_0005 when !IsIntel:
                // L1 TLBs (direct-mapped, 255 entries each) and 64 KiB 2-way L1 caches with 64-byte lines, QEMU's AMD legacy values.
                return (0x01FF_01FF, 0x01FF_01FF, 0x4002_0140, 0x4002_0140);
            case 0x8000_0006:
                // L2: Intel 4 MiB 16-way (QEMU legacy), AMD 512 KiB 16-way; AMD also reports L2 TLBs and a 16 MiB L3.
                return IsIntel ? (0u, 0u, (4096u << 16) | (0x8u << 12) | 64, 0u)
                    : (0u, 0x4200_4200u, (512u << 16) | (0x8u << 12) | (1u << 8) | 64, (32u << 18) | (0x8u << 12) | (1u << 8) | 64);
            case 0x8000_0007:
                return (0, 0, 0, 1u << 8); // invariant TSC: it counts virtual time at a constant rate
            case 0x8000_0008:
                return (0x3028, 0, 0, 0); // 40 physical, 48 linear address bits; one core (ECX = 0)
            default:
                return (0, 0, 0, 0);
        }
    }

    /// <summary>Leaf 0Dh, the XSAVE features and area layout (SDM vol. 1, 13.2), all zero without XSAVE. EBX of
    /// sub-leaves 0 and 1 is reported here for XCR0 = x87 (its reset value); <see cref="Cpu"/> recomputes them for the
    /// current XCR0.</summary>
    private (uint, uint, uint, uint) XsaveLeaf(uint subleaf)
    {
        ulong supported = State.XsaveLayout.Supported(this);
        if (supported == 0) return (0, 0, 0, 0);
        switch (subleaf)
        {
            case 0:
                return ((uint)supported, State.XsaveLayout.StandardSize(State.XsaveLayout.X87), State.XsaveLayout.StandardSize(supported), (uint)(supported >> 32));
            case 1:
                return (Word(7), State.XsaveLayout.CompactedSize(State.XsaveLayout.X87), 0, 0); // IA32_XSS: no supervisor components
            default:
                // Component i: size, standard offset, ECX bit 0 = supervisor (none), bit 1 = 64-byte aligned when compacted (no).
                if (subleaf >= 32 || (supported & (1UL << (int)subleaf)) == 0 || subleaf < 2) return (0, 0, 0, 0);
                return ((uint)State.XsaveLayout.ComponentSize((int)subleaf), State.XsaveLayout.PkruStandardOffset, 0, 0);
        }
    }

    /// <summary>Leaf 4, deterministic cache parameters: QEMU's legacy L1d/L1i 32 KiB 8-way, L2 4 MiB 16-way and
    /// L3 16 MiB 16-way, each used by one thread of one core.</summary>
    private static (uint, uint, uint, uint) CacheLeaf4(uint subleaf)
    {
        static (uint, uint, uint, uint) Cache(uint type, uint level, uint ways, uint sets, bool selfInit, uint edx) =>
            (type | (level << 5) | (selfInit ? 1u << 8 : 0), ((ways - 1) << 22) | 63, sets - 1, edx);
        return subleaf switch
        {
            0 => Cache(1, 1, 8, 64, true, 1),        // data; EDX bit 0: WBINVD does not flush other sharers' caches
            1 => Cache(2, 1, 8, 64, true, 1),        // instruction
            2 => Cache(3, 2, 16, 4096, true, 1),     // unified L2
            3 => Cache(3, 3, 16, 16384, true, 0b110), // unified L3, inclusive, complex indexing
            _ => (0, 0, 0, 0),
        };
    }

    private static uint Chars(string s, int i) =>
        (uint)(s[i] | (s[i + 1] << 8) | (s[i + 2] << 16) | (s[i + 3] << 24));
}
