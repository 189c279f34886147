namespace KhoEmu.Devices.Interrupts;

/// <summary>
/// An interrupt message on the APIC bus (an I/O APIC redirection, an MSI or an IPI): vector, delivery mode (SDM vol. 3,
/// 11.6.1: 0 fixed, 1 lowest priority, 2 SMI, 4 NMI, 5 INIT, 6 start-up, 7 ExtINT), destination mode and ID, trigger.
/// The destination is 32 bits (an x2APIC ICR, 11.12.9); an 8-bit xAPIC destination 0xFF, which is the broadcast
/// there, travels as <see cref="Broadcast"/> (<see cref="XapicDestination"/>), the x2APIC broadcast, which every
/// APIC in either mode accepts.
/// </summary>
public readonly record struct ApicMessage(int Vector, int DeliveryMode, bool Logical, uint Destination, bool Level)
{
    public const int Fixed = 0, LowestPriority = 1, Smi = 2, Nmi = 4, Init = 5, Startup = 6, ExtInt = 7;

    /// <summary>The x2APIC broadcast destination (11.12.9: FFFF_FFFFH in physical and logical mode).</summary>
    public const uint Broadcast = 0xFFFF_FFFF;

    /// <summary>An 8-bit xAPIC-format destination on the 32-bit bus: 0xFF is the broadcast.</summary>
    public static uint XapicDestination(byte destination) => destination == 0xFF ? Broadcast : destination;

    /// <summary>The message an MSI write carries (SDM vol. 3, 11.11.1): address bits 19:12 destination ID, bit 2
    /// destination mode; data bits 7:0 vector, 10:8 delivery mode, 15 trigger mode.</summary>
    public static ApicMessage FromMsi(ulong address, uint data) => new((int)(data & 0xFF), (int)((data >> 8) & 7),
        (address & 4) != 0, XapicDestination((byte)(address >> 12)), (data & 0x8000) != 0);
}
