using KhoEmu.Guest.Platform;
using KhoEmu.Kernel.Arch;
using KhoEmu.Kernel.Drivers;
using KhoEmu.Kernel.Mm;

namespace KhoEmu.Kernel.Tests;

/// <summary>
/// Scenario <c>devices</c>: PCI enumeration, the VT-d driver, edu DMA through the IOMMU and its isolation, and the
/// continuous DMA engine (skipped where the machine has none, as on QEMU).
/// </summary>
public static unsafe class DeviceTests
{
    private const ushort EduDomain = 1, EngineDomain = 2;
    private const int EduVector = 0x40;
    private static int s_interrupts;
    private static uint s_interruptStatus;

    /// <summary>edu's INTx handler: collect and acknowledge the status (the line drops), then the trap code EOIs.</summary>
    private static void OnEduInterrupt()
    {
        uint status = Edu.InterruptStatus;
        s_interruptStatus |= status;
        Edu.AcknowledgeInterrupt(status);
        s_interrupts++;
    }

    private static bool WaitForInterrupts(int count)
    {
        ulong start = Traps.Ticks;
        while (s_interrupts < count && Traps.Ticks - start < 200) Native.WaitForInterrupt();
        Native.Sti();
        return s_interrupts >= count;
    }
    private const ulong IovaA = 0x0100_0000, IovaB = 0x0100_1000, IovaRo = 0x0100_2000, IovaUnmapped = 0x0100_3000, Ring = 0x0200_0000;

    public static bool Run()
    {
        Ktap.Plan(10);
        Pci.Enumerate();
        bool edu = Edu.Probe();
        Ktap.Result(Pci.Count >= 2 && edu, "pci_enumeration", "host bridge or edu (1234:11e8) not found");
        bool vtd = Vtd.Init();
        Console.Write("# vt-d: cap ");
        Console.WriteHex(Vtd.Capability);
        Console.Write(", ");
        Console.WriteDec((long)Vtd.Levels);
        Console.WriteLine("-level tables");
        Ktap.Result(vtd, "vtd_translation_enabled", Vtd.Present ? "GSTS.TES never set" : "no VT-d unit at 0xFED90000");
        Ktap.Result(edu && Edu.Identification == 0x010000ED && Edu.Liveness(0x1234_5678) == ~0x1234_5678u, "edu_identity_and_liveness",
            "identification or liveness wrong");
        if (!edu || !vtd)
        {
            for (int i = 0; i < 7; i++) Ktap.Result(false, "device_tests", "needs edu and VT-d");
            return false;
        }

        // Legacy INTx: edu's INTA through the I/O APIC, level-triggered, twice (the second needs the EOI broadcast).
        int pin = (int)(Pci.Read(Edu.Device!.Device, Edu.Device.Function, 0x3C) >> 8) & 0xFF;
        int gsi = IoApic.PciGsi(Edu.Device.Device, pin);
        bool ioapic = IoApic.Init() && pin == 1;
        if (ioapic)
        {
            Traps.SetHandler(EduVector, &OnEduInterrupt);
            IoApic.Route(gsi, EduVector, levelTriggered: true, activeLow: true);
            Edu.RaiseInterrupt(0x1);
            bool first = WaitForInterrupts(1);
            Edu.RaiseInterrupt(0x2);
            ioapic = first && WaitForInterrupts(2) && s_interrupts == 2 && s_interruptStatus == 0x3 && Edu.InterruptStatus == 0
                && (IoApic.Redirection(gsi) & (1u << 14)) == 0;
        }
        Console.Write("# edu INTA -> GSI ");
        Console.WriteDec((long)gsi);
        Console.Write(": ");
        Console.WriteDec((long)s_interrupts);
        Console.WriteLine(" interrupt(s)");
        Ktap.Result(ioapic, "edu_intx_through_ioapic", "no I/O APIC, or the interrupts did not arrive once each");

        ulong top = Vtd.Attach(Edu.Device!.SourceId, EduDomain);
        ulong a = PageAllocator.AllocateLow(1), b = PageAllocator.AllocateLow(1), ro = PageAllocator.AllocateLow(1), victim = PageAllocator.AllocateLow(1);
        byte* pa = (byte*)Phys.ToVirt(a), pb = (byte*)Phys.ToVirt(b), pro = (byte*)Phys.ToVirt(ro), pv = (byte*)Phys.ToVirt(victim);
        for (int i = 0; i < 4096; i++) { pa[i] = (byte)(i * 13 + 1); pro[i] = 0x11; pv[i] = 0x22; }
        Vtd.Map(top, IovaA, a, writable: true);
        Vtd.Map(top, IovaB, b, writable: true);
        Vtd.Map(top, IovaRo, ro, writable: false);
        Vtd.Map(top, IovaUnmapped, victim, writable: true);
        Vtd.Unmap(top, EduDomain, IovaUnmapped);          // mapped once, then unmapped and invalidated

        bool round = Edu.CopyPage(IovaA, IovaB);
        Console.Write("# edu DMA waited ");
        Console.WriteDec(Edu.LastWaitTicks);
        Console.Write(" ticks; after round trip: gsts ");
        Console.WriteHex(Vtd.R32(0x1C));
        Console.Write(" fsts ");
        Console.WriteHex(Vtd.R32(0x34));
        Console.Write(" b[0..8] ");
        Console.WriteHex(*(ulong*)pb);
        Console.Write(" a[0..8] ");
        Console.WriteHex(*(ulong*)pa);
        Console.Write('\n');
        bool same = round;
        for (int i = 0; i < 4096 && same; i++) same = pb[i] == pa[i];
        Ktap.Result(same, "edu_dma_round_trip_through_iommu", round ? "data differs" : "DMA did not complete");

        s_interruptStatus = 0;
        int before = s_interrupts;
        bool done = ioapic && Edu.Dma(IovaA, Edu.Buffer, Edu.Chunk, toRam: false, interrupt: true) && WaitForInterrupts(before + 1);
        Ktap.Result(done && s_interruptStatus == 0x100, "edu_dma_completion_interrupt", "no DMA-done interrupt (status 0x100) on INTx");
        IoApic.Mask(gsi);
        Traps.SetHandler(EduVector, null);

        Vtd.TakeFault(out _, out _, out _, out _);
        Edu.Dma(Edu.Buffer, IovaUnmapped, Edu.Chunk, toRam: true);
        bool fault = Vtd.TakeFault(out ulong addr, out ushort sid, out uint reason, out bool write);
        bool untouched = true;
        for (int i = 0; i < 4096 && untouched; i++) untouched = pv[i] == 0x22;
        Ktap.Result(fault && addr == IovaUnmapped && sid == Edu.Device.SourceId && write && untouched, "dma_to_unmapped_iova_blocked",
            !fault ? "no fault recorded" : !untouched ? "the old page was written" : "fault record names the wrong access");

        Edu.Dma(Edu.Buffer, IovaRo, Edu.Chunk, toRam: true);
        bool roFault = Vtd.TakeFault(out addr, out _, out _, out write);
        bool roUntouched = true;
        for (int i = 0; i < 4096 && roUntouched; i++) roUntouched = pro[i] == 0x11;
        Ktap.Result(roFault && addr == IovaRo && roUntouched, "dma_to_read_only_iova_blocked", "write to a read-only mapping got through");

        Edu.Dma(IovaRo, Edu.Buffer, 64, toRam: false);
        Ktap.Result(!Vtd.TakeFault(out _, out _, out _, out _), "dma_read_of_read_only_iova_allowed", "a read was refused");

        if (!DmaEngineDriver.Probe())
        {
            Ktap.Skip("dma_engine_ring_continuous", "no DMA engine (4b45:0d4a) on this machine");
            return Ktap.Failed == 0;
        }
        ulong etop = Vtd.Attach(DmaEngineDriver.Device!.SourceId, EngineDomain);
        ulong ring = PageAllocator.AllocateLow(1);
        Vtd.Map(etop, Ring, ring, writable: true);
        DmaEngineDriver.Start(Ring, 64, 20_000);
        ulong start = Traps.Ticks;
        while (DmaEngineDriver.Written < 100 && Traps.Ticks - start < 200) Native.WaitForInterrupt();
        Native.Sti();
        DmaEngineDriver.Stop();
        // The ring holds the last 64 records: slot k must hold the newest sequence number congruent to k.
        var rec = (ulong*)Phys.ToVirt(ring);
        ulong written = DmaEngineDriver.Written;
        bool continuous = written >= 64 && DmaEngineDriver.Faults == 0 && DmaEngineDriver.NextSequence == written;
        for (ulong k = 0; k < 64 && continuous; k++)
        {
            ulong seq = rec[k * 2];
            continuous = seq % 64 == k && seq < written && seq >= written - 64;
        }
        Ktap.Result(continuous, "dma_engine_ring_continuous", "sequence numbers have a gap or writes faulted");
        return Ktap.Failed == 0;
    }
}
