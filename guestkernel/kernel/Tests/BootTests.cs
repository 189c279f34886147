using Internal.Runtime;
using KhoEmu.Kernel.Arch;
using KhoEmu.Kernel.Boot;
using KhoEmu.Kernel.Mm;
using KhoEmu.Kernel.Proc;

using KhoEmu.Guest.Platform;
using KhoEmu.Guest.Shared;
namespace KhoEmu.Kernel.Tests;

/// <summary>Scenario <c>boot</c>: the kernel checks its own foundations.</summary>
public static unsafe class BootTests
{
    private sealed class Node
    {
        public int Value;
        public Node? Next;
    }

    public static bool Run()
    {
        Ktap.Plan(10);
        MemoryMapSane();
        PageAllocatorRoundTrip();
        HeapAllocates();
        StaticsInitialized();
        SseWorks();
        TimerInterruptsArrive();
        PageFaultCaughtAndReported();
        NullPageUnmapped();
        FdtRoundTrip();
        InitRunsInRing3();
        return Ktap.Failed == 0;
    }

    private static void MemoryMapSane()
    {
        // Firmware maps need not be sorted (QEMU appends entries); RAM ranges must not overlap each other.
        ulong ram = 0;
        bool disjoint = true, imageInRam = false;
        for (int i = 0; i < BootInfo.MemMapCount; i++)
        {
            var e = BootInfo.MemMap[i];
            Console.Write("# e820 ");
            Console.WriteHex(e.Addr);
            Console.Write(" +");
            Console.WriteHex(e.Size);
            Console.Write(" type ");
            Console.WriteDec((ulong)e.Type);
            Console.Write('\n');
            if (e.Type != HvmMemmapEntry.Ram) continue;
            ram += e.Size;
            for (int j = 0; j < i; j++)
            {
                var o = BootInfo.MemMap[j];
                if (o.Type == HvmMemmapEntry.Ram && e.Addr < o.Addr + o.Size && o.Addr < e.Addr + e.Size) disjoint = false;
            }
            if (e.Addr <= Kernel.ImagePhys && Kernel.ImagePhys + Kernel.ImageSize <= e.Addr + e.Size) imageInRam = true;
        }
        Ktap.Result(BootInfo.MemMapCount > 0 && ram >= 16 << 20 && disjoint && imageInRam, "memory_map_sane",
            BootInfo.MemMapCount == 0 ? "no memory map" : !disjoint ? "RAM ranges overlap"
            : !imageInRam ? "kernel image is not inside RAM" : "less than 16 MiB of RAM");
    }

    private static void PageAllocatorRoundTrip()
    {
        ulong before = PageAllocator.FreeFrames;
        ulong one = PageAllocator.Allocate(1);
        ulong run = PageAllocator.Allocate(16, 16);
        bool ok = one != 0 && run != 0 && run % (16 * 4096) == 0 && one != run;
        if (ok)
        {
            var p = (ulong*)Phys.ToVirt(run);
            for (int i = 0; i < 16 * 512; i++) p[i] = (ulong)i * 0x9E37_79B9_7F4A_7C15;
            for (int i = 0; i < 16 * 512 && ok; i++) ok = p[i] == (ulong)i * 0x9E37_79B9_7F4A_7C15;
            ok = ok && PageAllocator.FreeFrames == before - 17;
        }
        if (one != 0) PageAllocator.Free(one, 1);
        if (run != 0) PageAllocator.Free(run, 16);
        Ktap.Result(ok && PageAllocator.FreeFrames == before, "page_allocator_round_trip", "allocation, contents or free count wrong");
    }

    private static void HeapAllocates()
    {
        ulong before = Heap.AllocatedBytes;
        Node? list = null;
        for (int i = 0; i < 1000; i++) list = new Node { Value = i, Next = list };
        int sum = 0, count = 0;
        for (var n = list; n != null; n = n.Next) { sum += n.Value; count++; }
        int[] big = new int[600_000];                 // 2.4 MB: more than the early heap, so the heap grows
        bool zeroed = big[0] == 0 && big[big.Length - 1] == 0;
        big[big.Length - 1] = 7;
        Ktap.Result(count == 1000 && sum == 999 * 1000 / 2 && zeroed && big[599_999] == 7 && Heap.AllocatedBytes - before > 2_400_000,
            "heap_allocates_and_grows", "objects or arrays came back wrong");
    }

    private static readonly string[] s_words = ["alpha", "beta", "gamma"];
    private static Node? s_node;

    private static void StaticsInitialized()
    {
        s_node = new Node { Value = 42 };
        string pf = Traps.ExceptionName(14);
        Console.Write("# exception 14 is ");
        Console.WriteLine(pf);
        Ktap.Result(s_words.Length == 3 && s_words[2].Length == 5 && s_node.Value == 42 && pf.Length == 14 && pf[1] == 'P',
            "static_fields_initialized", "reference-typed statics not set up");
    }

    private static void SseWorks()
    {
        double x = 2.0;
        for (int i = 0; i < 20; i++) x = 0.5 * (x + 2.0 / x);    // Newton: sqrt(2)
        long scaled = (long)(x * 1e9);
        Ktap.Result(scaled == 1_414_213_562, "sse_floating_point", "sqrt(2) came out wrong");
    }

    private static void TimerInterruptsArrive()
    {
        ulong start = Traps.Ticks;
        for (int i = 0; i < 1000 && Traps.Ticks < start + 3; i++) Native.WaitForInterrupt();
        Native.Sti();
        Ktap.Result(Traps.Ticks >= start + 3, "timer_interrupts_arrive", "fewer than 3 timer ticks while waiting");
    }

    private static void PageFaultCaughtAndReported()
    {
        const ulong Unmapped = 0x0000_5A5A_0000_0000;
        ulong recovered = Traps.RecoveredFaults;
        bool faulted = !Traps.Probe(Unmapped, out _);
        Ktap.Result(faulted && Traps.RecoveredFaults == recovered + 1 && Traps.LastFaultVector == 14
            && Traps.LastFaultAddress == Unmapped && (Traps.LastFaultError & 1) == 0,
            "page_fault_caught_and_reported", "no #PF with the right CR2 and error code");
    }

    private static void NullPageUnmapped()
    {
        bool faulted = !Traps.Probe(0, out _);
        bool mapped = Traps.Probe(Phys.DirectMapBase + 0x100000, out _);
        Ktap.Result(faulted && Traps.LastFaultVector == 14 && mapped, "null_page_unmapped", "page 0 is mapped or the direct map is not");
    }

    /// <summary>The shared FDT code, compiled for the guest, writes a tree and reads it back.</summary>
    private static void FdtRoundTrip()
    {
        const int Size = 4096;
        byte* buf = (byte*)Heap.Allocate(Size);
        var w = KhoEmu.Guest.Shared.FdtWriter.Create(buf, Size);
        w.BeginNode("");
        w.PropertyString("compatible", "kho-v1");
        w.BeginNode("LUO");
        w.PropertyU64("fdt", 0x1234_5678_9ABC_DEF0);
        w.EndNode();
        w.EndNode();
        int total = w.Finish();
        bool ok = total > 0 && KhoEmu.Guest.Shared.FdtReader.Open(buf, (ulong)total, out var r) == 0
            && r.StringEquals(0, "compatible", "kho-v1")
            && r.FindChild(0, "LUO") is int luo && luo > 0
            && r.GetU64(luo, "fdt", out ulong v) && v == 0x1234_5678_9ABC_DEF0;
        buf[8] ^= 0xFF; // corrupt the structure offset: the reader must refuse, not crash
        bool refused = KhoEmu.Guest.Shared.FdtReader.Open(buf, (ulong)total, out _) != 0;
        Ktap.Result(ok && refused, "fdt_round_trip", ok ? "a corrupted blob was accepted" : "tree did not read back");
    }

    private static void InitRunsInRing3()
    {
        ulong fromRing3 = Process.SyscallsFromRing3, written = Process.BytesWritten;
        long status = Process.RunInit();
        bool ok = status == 0 && Process.SyscallsFromRing3 > fromRing3 && Process.BytesWritten > written;
        Ktap.Result(ok, "init_runs_in_ring3", status == -2 ? "no init program in fw_cfg" : "init failed or made no ring-3 syscalls");
    }
}
