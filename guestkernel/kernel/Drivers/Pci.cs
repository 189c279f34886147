using KhoEmu.Guest.Platform;

namespace KhoEmu.Kernel.Drivers;

/// <summary>One PCI function found on bus 0.</summary>
public sealed class PciDevice
{
    public byte Device, Function;
    public ushort Vendor, DeviceId;
    public uint Class;
    public ulong Bar0, Bar0Size;
    public ushort SourceId => (ushort)((Device << 3) | Function);
}

/// <summary>
/// PCI enumeration of bus 0 through configuration mechanism #1 (0xCF8/0xCFC): identifies every function, sizes its
/// memory BARs (write all ones, read back the mask), places them in the MMIO window from 0xC0000000 (aligned to their
/// size), and enables memory decoding and bus mastering.
/// </summary>
public static class Pci
{
    public const ulong WindowBase = 0xC000_0000, WindowEnd = 0xFEC0_0000;
    public static readonly PciDevice?[] Devices = new PciDevice?[32];
    public static int Count;
    private static ulong s_next = WindowBase;

    private static uint Address(int dev, int fn, int reg) => 0x8000_0000u | (uint)(dev << 11) | (uint)(fn << 8) | (uint)(reg & 0xFC);

    public static uint Read(int dev, int fn, int reg)
    {
        Native.Outl(0xCF8, Address(dev, fn, reg));
        return Native.Inl(0xCFC);
    }

    public static void Write(int dev, int fn, int reg, uint value)
    {
        Native.Outl(0xCF8, Address(dev, fn, reg));
        Native.Outl(0xCFC, value);
    }

    public static void Enumerate()
    {
        Count = 0;
        for (int dev = 0; dev < 32; dev++)
        {
            uint id = Read(dev, 0, 0);
            if ((id & 0xFFFF) == 0xFFFF) continue;
            var d = new PciDevice { Device = (byte)dev, Vendor = (ushort)id, DeviceId = (ushort)(id >> 16), Class = Read(dev, 0, 8) >> 8 };
            uint header = (Read(dev, 0, 0x0C) >> 16) & 0x7F;
            if (header == 0) AssignBar0(d);
            Devices[Count++] = d;
        }
    }

    /// <summary>
    /// Sizes BAR0 and places it, without disturbing a device that is already decoding (a device kept running across
    /// kexec keeps its BAR; sizing only turns memory decoding off for a moment, never bus mastering, so its DMA goes on).
    /// </summary>
    private static void AssignBar0(PciDevice d)
    {
        uint cmd = Read(d.Device, 0, 4) & 0xFFFF;
        uint old = Read(d.Device, 0, 0x10);
        Write(d.Device, 0, 4, cmd & ~2u);                  // memory decoding off while sizing; bus master untouched
        Write(d.Device, 0, 0x10, 0xFFFF_FFFF);
        uint mask = Read(d.Device, 0, 0x10);
        Write(d.Device, 0, 0x10, old);
        if ((mask & 1) != 0 || mask == 0)                  // I/O BAR or none: leave it
        {
            Write(d.Device, 0, 4, cmd);
            return;
        }
        ulong size = ~(ulong)(mask & 0xFFFF_FFF0) + 1 & 0xFFFF_FFFF;
        if (size == 0) return;
        ulong current = old & 0xFFFF_FFF0;
        ulong addr;
        if ((cmd & 2) != 0 && current >= WindowBase && current + size <= WindowEnd && (current & (size - 1)) == 0)
        {
            addr = current;                                  // keep the running assignment
            if (addr + size > s_next) s_next = addr + size;
        }
        else
        {
            addr = (s_next + size - 1) & ~(size - 1);
            if (addr + size > WindowEnd) return;
            s_next = addr + size;
            Write(d.Device, 0, 0x10, (uint)addr);
            if ((mask & 6) == 4) Write(d.Device, 0, 0x14, 0);
        }
        Write(d.Device, 0, 4, (cmd & ~0x7u) | 0x6 | (cmd & 0x4));   // memory + bus master
        d.Bar0 = addr;
        d.Bar0Size = size;
    }

    public static PciDevice? Find(ushort vendor, ushort device)
    {
        for (int i = 0; i < Count; i++)
            if (Devices[i]!.Vendor == vendor && Devices[i]!.DeviceId == device) return Devices[i];
        return null;
    }
}
