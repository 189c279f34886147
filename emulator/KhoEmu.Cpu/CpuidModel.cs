namespace KhoEmu.Cpu;

/// <summary>
/// The CPUID feature set this CPU reports (documented in docs/cpu.md). Only features that are implemented are
/// advertised: long mode, NX, 1 GiB pages, SYSCALL, PAE/PSE/PGE, TSC, MSR, CMOV, CX8, CX16, FXSR, SSE, SSE2, POPCNT,
/// LZCNT and TZCNT (BMI1 subset), APIC. No x87 FPU bit: x87 instructions raise #UD.
/// </summary>
public static class CpuidModel
{
    public const string Vendor = "KhoEmuKhoEmu";
    public const string Brand = "KhoEmu virtual x86-64 CPU";

    public static (uint Eax, uint Ebx, uint Ecx, uint Edx) Query(uint leaf, uint subleaf)
    {
        static uint Chars(string s, int i) =>
            (uint)(s[i] | (s[i + 1] << 8) | (s[i + 2] << 16) | (s[i + 3] << 24));
        switch (leaf)
        {
            case 0:
                return (0xD, Chars(Vendor, 0), Chars(Vendor, 8), Chars(Vendor, 4));
            case 1:
                // Family 6, model 0x3A-like; EBX: CLFLUSH size 8 (×8 = 64 bytes), 1 logical CPU, APIC id 0.
                const uint edx = (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 8) | (1u << 9) | (1u << 13)
                    | (1u << 15) | (1u << 16) | (1u << 19) | (1u << 24) | (1u << 25) | (1u << 26);
                const uint ecx = (1u << 13) | (1u << 23) | (1u << 31); // CX16, POPCNT, hypervisor
                return (0x000306A9, 0x00010800, ecx, edx);
            case 7:
                return subleaf == 0 ? (0, (1u << 0) | (1u << 3), 0, 0) : (0u, 0u, 0u, 0u); // FSGSBASE, BMI1 (TZCNT)
            case 0x8000_0000:
                return (0x8000_0008, 0, 0, 0);
            case 0x8000_0001:
                return (0, 0, 1u << 5, (1u << 11) | (1u << 20) | (1u << 26) | (1u << 29)); // LZCNT; SYSCALL, NX, 1G, LM
            case 0x8000_0002 or 0x8000_0003 or 0x8000_0004:
            {
                string b = Brand.PadRight(48, '\0');
                int o = (int)(leaf - 0x8000_0002) * 16;
                return (Chars(b, o), Chars(b, o + 4), Chars(b, o + 8), Chars(b, o + 12));
            }
            case 0x8000_0008:
                return (0x3028, 0, 0, 0); // 40 physical, 48 linear address bits
            default:
                return (0, 0, 0, 0);
        }
    }
}
