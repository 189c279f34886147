namespace KhoEmu.Devices.Interrupts;

/// <summary>
/// An interrupt as the local APICs receive it: what a compatibility-format MSI (Intel SDM vol. 3, 11.11.1 message
/// address, 11.11.2 message data) or an interrupt-remapping table entry (VT-d specification 9.10) says.
/// </summary>
/// <param name="Vector">Bits 7:0 of the data (or the IRTE's vector).</param>
/// <param name="DeliveryMode">0 fixed, 1 lowest priority, 2 SMI, 4 NMI, 5 INIT, 7 ExtINT.</param>
/// <param name="Level">Trigger mode: true for level-triggered.</param>
/// <param name="Destination">The APIC destination: address bits 19:12 (xAPIC), or the IRTE's destination.</param>
/// <param name="Logical">Destination mode: true for logical.</param>
/// <param name="RedirectionHint">Address bit 3 (or the IRTE's RH).</param>
public readonly record struct InterruptMessage(byte Vector, byte DeliveryMode, bool Level, uint Destination, bool Logical, bool RedirectionHint)
{
    /// <summary>The base of the interrupt address range (0xFEE00000-0xFEEFFFFF): a DWORD write there is an interrupt.</summary>
    public const ulong AddressBase = 0xFEE0_0000;

    /// <summary>Whether a write to <paramref name="address"/> is an interrupt request rather than a memory write.</summary>
    public static bool IsInterruptAddress(ulong address) => (address & ~0xF_FFFFUL) == AddressBase;

    /// <summary>Decodes a compatibility-format message (SDM vol. 3, 11.11).</summary>
    public static InterruptMessage FromMsi(ulong address, uint data) => new(
        (byte)data, (byte)((data >> 8) & 7), (data & 0x8000) != 0, (uint)(address >> 12) & 0xFF, (address & 4) != 0, (address & 8) != 0);

    /// <summary>Fixed and lowest-priority messages carry a vector to the local APIC; the others (SMI, NMI, INIT, ExtINT)
    /// are not delivered by this board.</summary>
    public bool CarriesVector => DeliveryMode is 0 or 1;
}
