namespace KhoEmu.Cpu;

/// <summary>
/// CPUID feature flags this CPU can implement, encoded as (register word × 32 + bit). Words: 0 = leaf 1 EDX,
/// 1 = leaf 1 ECX, 2 = leaf 7.0 EBX, 3 = leaf 7.0 EDX, 4 = leaf 8000_0001h EDX, 5 = leaf 8000_0001h ECX, 6 = leaf
/// 7.0 ECX, 7 = leaf 0Dh.1 EAX (Intel SDM vol. 2A, CPUID tables 3-8 to 3-11; AMD APM vol. 3, appendix E). Only flags whose behaviour is implemented are
/// listed, so a model cannot advertise anything else; the one exception is <see cref="Bmi1"/>, listed because TZCNT
/// depends on it (without it F3 0F BC is BSF) but advertised by no model, since ANDN/BEXTR/BLS* are not implemented.
/// </summary>
public enum CpuFeature
{
    // Leaf 1 EDX
    Fpu = 0, De = 2, Pse = 3, Tsc = 4, Msr = 5, Pae = 6, Cx8 = 8, Apic = 9, Mtrr = 12, Pge = 13, Cmov = 15, Pat = 16,
    Clflush = 19, Fxsr = 24, Sse = 25, Sse2 = 26,
    // Leaf 1 ECX
    Sse3 = 32 + 0, Cx16 = 32 + 13, X2apic = 32 + 21, Popcnt = 32 + 23, Xsave = 32 + 26, Rdrand = 32 + 30, Hypervisor = 32 + 31,
    // Leaf 7.0 EBX
    Fsgsbase = 64 + 0, Bmi1 = 64 + 3, Smep = 64 + 7, Erms = 64 + 9, Rdseed = 64 + 18, Smap = 64 + 20,
    // Leaf 7.0 EDX
    ArchCapabilities = 96 + 29,
    // Leaf 8000_0001h EDX
    Syscall = 128 + 11, Nx = 128 + 20, Page1G = 128 + 26, Rdtscp = 128 + 27, LongMode = 128 + 29,
    // Leaf 8000_0001h ECX
    LahfLm = 160 + 0, Lzcnt = 160 + 5, Prefetchw = 160 + 8,
    // Leaf 7.0 ECX (OSPKE, bit 4, is CR4.PKE and not a model property)
    Pku = 192 + 3, Rdpid = 192 + 22, Pks = 192 + 31,
    // Leaf 0Dh.1 EAX
    Xsaveopt = 224 + 0, Xsavec = 224 + 1, Xgetbv1 = 224 + 2,
}
