using KhoEmu.Guest.Platform;
using KhoEmu.Kernel.Mm;

namespace KhoEmu.Kernel.Kho;

/// <summary>
/// Reports handover events to the emulator's KHO oracle (port 0x5A0; absent on QEMU, where the writes are ignored):
/// the descriptor at the kexec jump, and every block restored afterwards, so the host can prove preserved memory
/// was not touched before it was restored.
/// </summary>
public static unsafe class Oracle
{
    private const uint Port = 0x5A0;
    private static ulong s_page;

    private static void Send(uint command, ulong phys, int order)
    {
        if (s_page == 0) s_page = PageAllocator.AllocateLow(1);
        if (s_page == 0 || s_page >= 0x1_0000_0000UL) return;
        var c = (byte*)Phys.ToVirt(s_page);
        *(uint*)c = command;
        *(int*)(c + 4) = order;
        *(ulong*)(c + 8) = phys;
        Native.Outl(Port, (uint)s_page);
    }

    public static void Handover(ulong descriptor) => Send(1, descriptor, 0);
    public static void Restored(ulong phys, int order) => Send(2, phys, order);
    public static void BlackoutBegin() => Send(3, 0, 0);
    public static void BlackoutEnd() => Send(4, 0, 0);
}
