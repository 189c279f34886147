using KhoEmu.Core.State;
using KhoEmu.Devices.State;

namespace KhoEmu.Devices.Pci;

public sealed partial class PciBus : IStateful<PciBusState>
{
    public PciBusState SaveState() => new(_address,
        _pirqAsserted.Select(set => set.Select(f => (byte)f.SourceId).Order().ToArray()).ToArray());

    public void ValidateState(PciBusState s)
    {
        StateCheck.Bits("pci", "CONFIG_ADDRESS", s.Address, 0x80FF_FFFC);
        StateCheck.Length("pci", "PIRQ lines", s.PirqAsserted, 8);
        for (int pirq = 0; pirq < 8; pirq++)
        {
            StateCheck.That("pci", s.PirqAsserted[pirq] is not null, $"PIRQ {pirq} missing");
            foreach (byte devfn in s.PirqAsserted[pirq])
            {
                var f = _slots[devfn];
                StateCheck.That("pci", f is not null && f.InterruptPin != 0 && Pirq(devfn >> 3, f.InterruptPin) == pirq,
                    $"PIRQ {pirq} asserted by {devfn >> 3:x2}.{devfn & 7}, which does not drive it");
            }
        }
    }

    public void LoadState(PciBusState s)
    {
        _address = s.Address;
        for (int pirq = 0; pirq < 8; pirq++)
        {
            _pirqAsserted[pirq].Clear();
            foreach (byte devfn in s.PirqAsserted[pirq]) _pirqAsserted[pirq].Add(_slots[devfn]!);
        }
    }
}
