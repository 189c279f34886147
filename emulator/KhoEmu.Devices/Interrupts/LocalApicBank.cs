using KhoEmu.Core;

namespace KhoEmu.Devices.Interrupts;

/// <summary>
/// The local APIC page at 0xFEE00000 on a machine with several processors: every processor sees its own local APIC at
/// the same address (SDM vol. 3, 11.4.1), so an access goes to the APIC of the processor that runs now.
/// </summary>
public sealed class LocalApicBank(IReadOnlyList<LocalApic> apics, Func<int> currentProcessor) : IMmioDevice
{
    public ulong ReadMmio(ulong offset, int size) => apics[currentProcessor()].ReadMmio(offset, size);

    public void WriteMmio(ulong offset, int size, ulong value) => apics[currentProcessor()].WriteMmio(offset, size, value);
}
