using System.Runtime;
using Internal.Runtime;
using Internal.Runtime.CompilerHelpers;
using KhoEmu.Kernel.Arch;
using KhoEmu.Kernel.Boot;
using KhoEmu.Kernel.Drivers;
using KhoEmu.Kernel.Mm;
using KhoEmu.Kernel.Proc;
using KhoEmu.Kernel.Tests;

using KhoEmu.Guest.Platform;
using KhoEmu.Guest.Shared;
namespace KhoEmu.Kernel;

/// <summary>Kernel start-up, in order: runtime, console, boot info, memory, descriptors, interrupts, then the work.</summary>
public static unsafe class Kernel
{
    public static ulong ImagePhys, ImageSize;
    public const uint TimerCount = 100_000;

    [RuntimeExport("KernelEntry")]
    private static void KernelEntry(ulong startInfoPhys, ulong imagePhys)
    {
        LinkInfo link;
        Native.LinkInfo(&link);
        // The heap and the static bases come first: touching a class's statics may run its constructor.
        Heap.AddRegion((void*)link.EarlyHeap, (nuint)link.EarlyHeapSize);
        Panic.SetHandler(&OnPanic);
        StartupCodeHelpers.InitializeModules((void**)link.ModulesStart, (void**)link.ModulesEnd);
        Traps.Link = link;
        ImagePhys = imagePhys;
        ImageSize = link.ImageEnd - link.ImageStart;

        Serial.Init();
        Console.Write("KhoEmu kernel: image at ");
        Console.WriteHex(imagePhys);
        Console.Write(", ");
        Console.WriteDec(ImageSize / 1024);
        Console.WriteLine(" KiB");

        var map = (HvmMemmapEntry*)Heap.Allocate((nuint)(sizeof(HvmMemmapEntry) * BootInfo.MaxMemMap));
        if (!BootInfo.Parse(startInfoPhys, map)) Panic.Fail("no valid hvm_start_info (wrong magic)");
        Console.Write("command line: ");
        Console.WriteBytes(BootInfo.Cmdline, BootInfo.CmdlineLength);
        Console.Write('\n');

        // A kernel started by kexec finds the KHO descriptor among the start-info modules: until it has read the
        // preserved-memory map it allocates only inside the scratch areas listed there.
        var scratch = stackalloc PhysRange[PageAllocator.MaxScratch];
        int scratchCount = KhoEmu.Kernel.Kho.Kho.FindIncoming(scratch, PageAllocator.MaxScratch, out ulong khoDescriptor);
        PageAllocator.Init(imagePhys, ImageSize, scratch, scratchCount);
        Paging.Init(PageAllocator.HighestRam);
        Heap.SetGrowHook(&GrowHeap);
        Descriptors.Init();
        KhoEmu.Kernel.Kho.Kho.InitTracking();
        KhoEmu.Kernel.Luo.LiveUpdate.RegisterHandler(new KhoEmu.Kernel.Luo.MemfdHandler());
        KhoEmu.Kernel.Luo.LiveUpdate.RegisterHandler(new KhoEmu.Kernel.Luo.IommufdHandler());
        KhoEmu.Kernel.Luo.LiveUpdate.RegisterHandler(new KhoEmu.Kernel.Luo.VfioHandler());
        if (scratchCount > 0)
        {
            KhoEmu.Kernel.Kho.Kho.ReadIncoming(khoDescriptor);
            KhoEmu.Kernel.Luo.LiveUpdate.ReadIncoming();
            Console.Write("kho: incoming handover: ");
            Console.WriteDec(KhoEmu.Kernel.Kho.Kho.IncomingBlocks);
            Console.Write(" preserved blocks (");
            Console.WriteDec(KhoEmu.Kernel.Kho.Kho.IncomingBytes / 1024);
            Console.Write(" KiB), liveupdate-number ");
            Console.WriteDec(KhoEmu.Kernel.Luo.LiveUpdate.Number);
            Console.Write('\n');
            if (KhoEmu.Kernel.Kho.Kho.IncomingError is { } why)
            {
                Console.Write("kho: ");
                Console.WriteLine(why);
            }
        }
        else if (!KhoEmu.Kernel.Kho.Kho.ReserveScratch()) Console.WriteLine("kho: could not reserve scratch memory");
        for (int i = 0; i < PageAllocator.ScratchCount; i++)
        {
            Console.Write("kho: scratch ");
            Console.WriteHex(PageAllocator.Scratch(i).Addr);
            Console.Write(" +");
            Console.WriteDec(PageAllocator.Scratch(i).Size >> 20);
            Console.WriteLine(" MiB");
        }
        Console.Write("memory: ");
        Console.WriteDec(PageAllocator.TotalRamFrames * 4 / 1024);
        Console.Write(" MiB RAM, ");
        Console.WriteDec(PageAllocator.FreeFrames * 4 / 1024);
        Console.WriteLine(" MiB free");

        LocalApic.Init();
        LocalApic.StartTimer(TimerCount);
        Native.Sti();

        if (Scenarios.IsKernelScenario) Shutdown(Scenarios.Run() ? 0u : 1u);
        long status = Process.RunInit();
        Console.Write("init exited with status ");
        Console.WriteDec(status);
        Console.WriteLine("; shutting down");
        Shutdown(status == 0 ? 0u : 1u);
    }

    /// <summary>Heap growth: 1 MiB (or the request, rounded up) of contiguous frames through the direct map.</summary>
    private static bool GrowHeap(nuint need)
    {
        ulong bytes = Phys.AlignUp((ulong)need + 64, 1 << 20);
        ulong p = PageAllocator.Allocate(bytes / Phys.PageSize);
        if (p == 0) return false;
        Heap.AddRegion(Phys.ToVirt(p), (nuint)bytes);
        return true;
    }

    private static void OnPanic(string reason)
    {
        Console.Write("\nkernel panic: ");
        Console.WriteLine(reason);
        Shutdown(0x7F);
    }

    /// <summary>Ends the run: isa-debug-exit (the emulator or QEMU exits with (v &lt;&lt; 1) | 1), else halt.</summary>
    public static void Shutdown(uint value)
    {
        Native.Cli();
        Native.Outl(0xF4, value);
        Native.HaltForever();
    }
}
