namespace KhoEmu.Devices.Interrupts;

/// <summary>
/// An interrupt message on the APIC bus (an I/O APIC redirection, an MSI or an IPI): vector, delivery mode (SDM vol. 3,
/// 11.6.1: 0 fixed, 1 lowest priority, 2 SMI, 4 NMI, 5 INIT, 6 start-up, 7 ExtINT), destination mode and ID, trigger.
/// </summary>
public readonly record struct ApicMessage(int Vector, int DeliveryMode, bool Logical, byte Destination, bool Level)
{
    public const int Fixed = 0, LowestPriority = 1, Smi = 2, Nmi = 4, Init = 5, Startup = 6, ExtInt = 7;

    /// <summary>The message an MSI write carries (SDM vol. 3, 11.11.1): address bits 19:12 destination ID, bit 2
    /// destination mode; data bits 7:0 vector, 10:8 delivery mode, 15 trigger mode.</summary>
    public static ApicMessage FromMsi(ulong address, uint data) => new((int)(data & 0xFF), (int)((data >> 8) & 7),
        (address & 4) != 0, (byte)(address >> 12), (data & 0x8000) != 0);
}
