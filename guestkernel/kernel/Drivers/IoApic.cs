using KhoEmu.Guest.Platform;
using KhoEmu.Kernel.Mm;

namespace KhoEmu.Kernel.Drivers;

/// <summary>
/// The I/O APIC at 0xFEC00000 (IOREGSEL / IOWIN): masks every input at start-up and routes a GSI to a vector with
/// the trigger mode and polarity the interrupt source needs. PCI INTx lines use the q35 routing the firmware's ACPI
/// tables describe (QEMU's ICH9 defaults): pin INTx of slot s is PIRQ[E..H] number (s + x) % 4 + 4, GSI 16 + PIRQ.
/// </summary>
public static unsafe class IoApic
{
    public const ulong Base = 0xFEC0_0000;
    public static int Pins;

    private static byte* Regs => (byte*)Phys.ToVirt(Base);

    public static uint Read(uint reg)
    {
        Native.MmioWrite32(Regs, reg);
        return Native.MmioRead32(Regs + 0x10);
    }

    private static void Write(uint reg, uint value)
    {
        Native.MmioWrite32(Regs, reg);
        Native.MmioWrite32(Regs + 0x10, value);
    }

    /// <summary>Reads the version register and masks every input; false when no I/O APIC answers.</summary>
    public static bool Init()
    {
        uint ver = Read(1);
        if (ver == 0 || ver == 0xFFFF_FFFF) return false;
        Pins = (int)((ver >> 16) & 0xFF) + 1;
        for (int pin = 0; pin < Pins; pin++) Mask(pin);
        return true;
    }

    public static void Mask(int pin) => Write(0x10 + 2 * (uint)pin, 1u << 16);

    /// <summary>Fixed delivery of <paramref name="vector"/> to APIC ID 0 (physical), unmasked.</summary>
    public static void Route(int pin, uint vector, bool levelTriggered, bool activeLow)
    {
        Write(0x11 + 2 * (uint)pin, 0);
        Write(0x10 + 2 * (uint)pin, vector | (levelTriggered ? 1u << 15 : 0) | (activeLow ? 1u << 13 : 0));
    }

    public static uint Redirection(int pin) => Read(0x10 + 2 * (uint)pin);

    /// <summary>The GSI a bus-0 function's INTx pin (1 = INTA) reaches on q35.</summary>
    public static int PciGsi(int slot, int pin) => 16 + (slot + pin - 1) % 4 + 4;
}
