using KhoEmu.Guest.Platform;
using KhoEmu.Kernel.Arch;
using KhoEmu.Kernel.Mm;

namespace KhoEmu.Kernel.Drivers;

/// <summary>QEMU's edu device: identification, liveness, and DMA with its 4 KiB buffer at device address 0x40000.</summary>
public static unsafe class Edu
{
    public const ushort Vendor = 0x1234, DeviceId = 0x11E8;
    public const ulong Buffer = 0x40000;
    public static PciDevice? Device;

    private static uint* Reg(uint off) => (uint*)((byte*)Phys.ToVirt(Device!.Bar0) + off);
    private static ulong* Reg64(uint off) => (ulong*)((byte*)Phys.ToVirt(Device!.Bar0) + off);

    public static bool Probe()
    {
        Device = Pci.Find(Vendor, DeviceId);
        return Device != null && Device.Bar0 != 0;
    }

    public static uint Identification => *Reg(0x00);

    public static uint Liveness(uint value)
    {
        *Reg(0x04) = value;
        return *Reg(0x04);
    }

    /// <summary>One DMA transfer; false when it did not complete within about two seconds of timer ticks.</summary>
    public static bool Dma(ulong src, ulong dst, ulong count, bool toRam)
    {
        // 32-bit accesses: both QEMU's edu and KhoEmu's take them for the DMA registers (addresses are below 256 MiB).
        *Reg(0x80) = (uint)src;
        *Reg(0x88) = (uint)dst;
        *Reg(0x90) = (uint)count;
        *Reg(0x98) = 1u | (toRam ? 2u : 0);
        ulong start = Traps.Ticks;
        while ((*Reg(0x98) & 1) != 0)
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
        *(ulong*)(Regs + 0x08) = ringIova;
        *(uint*)(Regs + 0x10) = entries;
        *(uint*)(Regs + 0x14) = intervalNs;
        *(uint*)(Regs + 0x18) = 1;
    }

    public static void Stop() => *(uint*)(Regs + 0x18) = 0;
    public static bool Running => (*(uint*)(Regs + 0x1C) & 1) != 0;
    public static ulong Written => *(ulong*)(Regs + 0x28);
    public static ulong Faults => *(ulong*)(Regs + 0x30);
    public static ulong NextSequence => *(ulong*)(Regs + 0x20);
}
