using KhoEmu.Guest.Platform;
using KhoEmu.Kernel.Arch;
using KhoEmu.Kernel.Mm;

namespace KhoEmu.Kernel.Drivers;

/// <summary>QEMU's edu device: identification, liveness, and DMA with its 4 KiB buffer at device address 0x40000.</summary>
public static unsafe class Edu
{
    public const ushort Vendor = 0x1234, DeviceId = 0x11E8;
    public const ulong Buffer = 0x40000;

    /// <summary>
    /// Transfer size the drivers use. Some QEMU versions refuse (with a fatal hardware error) any transfer that ends
    /// exactly at the buffer's end, so no transfer touches the buffer's last byte.
    /// </summary>
    public const ulong Chunk = 2048;
    public static PciDevice? Device;

    private static byte* Reg(uint off) => (byte*)Phys.ToVirt(Device!.Bar0) + off;
    private static uint R32(uint off) => Native.MmioRead32(Reg(off));
    private static void W32(uint off, uint v) => Native.MmioWrite32(Reg(off), v);

    public static bool Probe()
    {
        Device = Pci.Find(Vendor, DeviceId);
        return Device != null && Device.Bar0 != 0;
    }

    public static uint Identification => R32(0x00);

    public static uint Liveness(uint value)
    {
        W32(0x04, value);
        return R32(0x04);
    }

    public static uint InterruptStatus => R32(0x24);
    public static void RaiseInterrupt(uint bits) => W32(0x60, bits);
    public static void AcknowledgeInterrupt(uint bits) => W32(0x64, bits);

    /// <summary>
    /// One DMA transfer (with <paramref name="interrupt"/>, the device raises status bit 0x100 when done); false when
    /// it did not complete within about two seconds of timer ticks.
    /// </summary>
    public static bool Dma(ulong src, ulong dst, ulong count, bool toRam, bool interrupt = false)
    {
        // 32-bit accesses (edu takes 4 or 8 bytes; narrower reads return nothing useful): addresses are below 256 MiB.
        W32(0x80, (uint)src);
        W32(0x88, (uint)dst);
        W32(0x90, (uint)count);
        W32(0x98, 1u | (toRam ? 2u : 0) | (interrupt ? 4u : 0));
        ulong start = Traps.Ticks;
        while ((R32(0x98) & 1) != 0)
        {
            if (Traps.Ticks - start > 200)
            {
                Console.Write("# edu: DMA still running after ");
                Console.WriteDec(Traps.Ticks - start);
                Console.WriteLine(" timer ticks");
                return false;
            }
            Native.WaitForInterrupt();
            Native.Sti();
        }
        LastWaitTicks = Traps.Ticks - start;
        return true;
    }

    public static ulong LastWaitTicks;

    /// <summary>Copies a 4 KiB page from IOVA to IOVA through the device's buffer, <see cref="Chunk"/> bytes at a time.</summary>
    public static bool CopyPage(ulong fromIova, ulong toIova)
    {
        for (ulong off = 0; off < 4096; off += Chunk)
            if (!Dma(fromIova + off, Buffer, Chunk, toRam: false) || !Dma(Buffer, toIova + off, Chunk, toRam: true))
                return false;
        return true;
    }
}

/// <summary>KhoEmu's continuous DMA engine (4b45:0d4a): ring IOVA, entries, interval, run, counters.</summary>
public static unsafe class DmaEngineDriver
{
    public const ushort Vendor = 0x4B45, DeviceId = 0x0D4A;
    public static PciDevice? Device;

    private static byte* Regs => (byte*)Phys.ToVirt(Device!.Bar0);

    public static bool Probe()
    {
        Device = Pci.Find(Vendor, DeviceId);
        return Device != null && Device.Bar0 != 0;
    }

    public static void Start(ulong ringIova, uint entries, uint intervalNs)
    {
        Native.MmioWrite64(Regs + 0x08, ringIova);
        Native.MmioWrite32(Regs + 0x10, entries);
        Native.MmioWrite32(Regs + 0x14, intervalNs);
        Native.MmioWrite32(Regs + 0x18, 1);
    }

    public static void Stop() => Native.MmioWrite32(Regs + 0x18, 0);
    public static bool Running => (Native.MmioRead32(Regs + 0x1C) & 1) != 0;
    public static ulong Written => Native.MmioRead64(Regs + 0x28);
    public static ulong Faults => Native.MmioRead64(Regs + 0x30);
    public static ulong NextSequence => Native.MmioRead64(Regs + 0x20);
}
