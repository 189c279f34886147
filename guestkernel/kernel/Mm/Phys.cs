using KhoEmu.Guest.Platform;
namespace KhoEmu.Kernel.Mm;

/// <summary>Physical addresses and the direct map (all of RAM and the low 4 GiB at a fixed offset).</summary>
public static unsafe class Phys
{
    public const ulong DirectMapBase = 0xFFFF_8880_0000_0000;
    public const ulong PageSize = 4096;

    public static void* ToVirt(ulong phys) => (void*)(phys + DirectMapBase);
    public static ulong FromVirt(void* virt) => (ulong)virt - DirectMapBase;
    public static ulong AlignUp(ulong v, ulong a) => (v + a - 1) & ~(a - 1);
    public static ulong AlignDown(ulong v, ulong a) => v & ~(a - 1);
}
