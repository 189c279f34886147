using System.Numerics;

namespace KhoEmu.Cpu.Smp;

/// <summary>
/// The processor topology of a machine (QEMU's <c>-smp cpus=N,sockets=S,cores=C,threads=T</c>): S × C × T logical
/// processors, numbered socket-major. A processor's APIC ID packs its thread, core and socket numbers into bit fields
/// as wide as the counts need (Intel SDM vol. 3, 9.9.1; QEMU's <c>x86_apicid_from_cpu_idx</c>), so with power-of-two
/// counts (and always with one socket and one thread per core) APIC ID = processor index.
/// </summary>
public sealed record CpuTopology(int Sockets, int Cores, int Threads)
{
    /// <summary>The largest machine supported: APIC IDs must fit the xAPIC's 8-bit ID and stay below the broadcast
    /// ID 0xFF; 255 processors are far more than deterministic round-robin makes useful.</summary>
    public const int MaxCpus = 255;

    /// <summary>One processor: what every machine had before SMP.</summary>
    public static CpuTopology Single { get; } = new(1, 1, 1);

    /// <summary><paramref name="count"/> cores in one socket, one thread each (QEMU 6.2+'s default split of -smp N).</summary>
    public static CpuTopology Cores1Socket(int count) => new(1, count, 1);

    public int Count => Sockets * Cores * Threads;

    /// <summary>Bits of the APIC ID that number the thread within a core (SDM: SMT_Mask_Width).</summary>
    public int ThreadBits => Width(Threads);

    /// <summary>Bits that number the core within a package.</summary>
    public int CoreBits => Width(Cores);

    /// <summary>Bits below the package ID (the shift CPUID.0BH reports for the core level).</summary>
    public int PackageShift => ThreadBits + CoreBits;

    /// <summary>The APIC ID of processor <paramref name="index"/> (0 = the bootstrap processor).</summary>
    public int ApicId(int index)
    {
        int thread = index % Threads, core = index / Threads % Cores, socket = index / (Threads * Cores);
        return (socket << PackageShift) | (core << ThreadBits) | thread;
    }

    private static int Width(int count) => count <= 1 ? 0 : 32 - BitOperations.LeadingZeroCount((uint)(count - 1));
}
