using KhoEmu.Kernel.Mm;

using KhoEmu.Guest.Platform;
namespace KhoEmu.Kernel.Arch;

/// <summary>
/// GDT (kernel code/data, user code/data in the order SYSRET needs, TSS), TSS (RSP0 for ring-3 traps, IST1 for
/// double faults), IDT (256 gates to the stubs; #DF on IST1; vector 0x80 unused: Linux syscalls use SYSCALL).
/// </summary>
public static unsafe class Descriptors
{
    public const ushort KernelCode = 0x08, KernelData = 0x10, UserData = 0x20 | 3, UserCode = 0x28 | 3, TssSelector = 0x30;
    private const int StackPages = 16;
    private static ulong* s_gdt;
    private static byte* s_tss;
    private static ulong* s_idt;
    public static ulong TrapStackTop;

    public static void Init()
    {
        ulong page = PageAllocator.Allocate(1);
        s_gdt = (ulong*)Phys.ToVirt(page);
        s_tss = (byte*)s_gdt + 256;
        s_gdt[0] = 0;
        s_gdt[1] = 0x00AF_9A00_0000_FFFF;   // kernel code 64
        s_gdt[2] = 0x00CF_9200_0000_FFFF;   // kernel data
        s_gdt[3] = 0x00CF_FA00_0000_FFFF;   // user code 32 (SYSRET base, unused)
        s_gdt[4] = 0x00CF_F200_0000_FFFF;   // user data
        s_gdt[5] = 0x00AF_FA00_0000_FFFF;   // user code 64
        ulong tss = (ulong)s_tss;
        const ulong limit = 104 - 1;
        s_gdt[6] = limit | ((tss & 0xFFFFFF) << 16) | (0x89UL << 40) | (((tss >> 24) & 0xFF) << 56);
        s_gdt[7] = tss >> 32;

        TrapStackTop = AllocateStack();
        *(ulong*)(s_tss + 4) = TrapStackTop;           // RSP0
        *(ulong*)(s_tss + 36) = AllocateStack();       // IST1
        *(ushort*)(s_tss + 102) = 104;                 // no I/O bitmap

        ulong* gdtr = stackalloc ulong[2];
        *(ushort*)gdtr = 8 * 8 - 1;
        *(ulong*)((byte*)gdtr + 2) = (ulong)s_gdt;
        Native.Lgdt(gdtr);
        Native.LoadSegments(KernelCode, KernelData);
        Native.Ltr(TssSelector);

        ulong idtPage = PageAllocator.Allocate(1);
        s_idt = (ulong*)Phys.ToVirt(idtPage);
        ulong stubs = Native.VectorStubsBase();
        for (int v = 0; v < 256; v++)
        {
            ulong handler = stubs + (ulong)v * 16;
            ulong ist = v == 8 ? 1UL : 0UL;
            s_idt[v * 2] = (handler & 0xFFFF) | ((ulong)KernelCode << 16) | (ist << 32) | (0x8EUL << 40) | (((handler >> 16) & 0xFFFF) << 48);
            s_idt[v * 2 + 1] = handler >> 32;
        }
        ulong* idtr = stackalloc ulong[2];
        *(ushort*)idtr = 256 * 16 - 1;
        *(ulong*)((byte*)idtr + 2) = (ulong)s_idt;
        Native.Lidt(idtr);

        // SYSCALL: STAR selectors, LSTAR entry, SFMASK clears TF, IF, DF, AC.
        Native.Wrmsr(0xC000_0081, (0x18UL << 48) | ((ulong)KernelCode << 32));
        Native.Wrmsr(0xC000_0082, Native.SyscallEntryAddress());
        Native.Wrmsr(0xC000_0084, 0x4_0700);
        Native.SetSyscallStack(TrapStackTop);
    }

    private static ulong AllocateStack()
    {
        ulong p = PageAllocator.Allocate(StackPages);
        if (p == 0) Internal.Runtime.Panic.Fail("no memory for a kernel stack");
        return (ulong)Phys.ToVirt(p) + StackPages * Phys.PageSize;
    }
}
