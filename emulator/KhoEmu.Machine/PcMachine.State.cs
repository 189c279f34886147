using KhoEmu.Core.State;
using KhoEmu.Devices.Acpi;
using KhoEmu.Devices.Chipset;
using KhoEmu.Devices.Pci;
using KhoEmu.Devices.Timers;
using KhoEmu.Machine.Board;

namespace KhoEmu.Machine;

/// <summary>
/// The devices' snapshot sections (docs/devices.md, "Device state"): the clock first, whose state re-arms every named
/// timer, then every device the machine has, under stable unique names. Loading a section changes only its
/// component's fields; interrupt line levels are in the receivers' states (PIC, I/O APIC, PCI PIRQs), so nothing is
/// re-driven on load. The processors, RAM, the SMP scheduler and the file format are outside this list.
/// </summary>
public sealed partial class PcMachine
{
    private IReadOnlyList<ISnapshotSection>? _deviceSections;

    /// <summary>Every device's section, clock first; built once (the machine's devices never change).</summary>
    public IReadOnlyList<ISnapshotSection> DeviceSections => _deviceSections ??= BuildDeviceSections();

    private List<ISnapshotSection> BuildDeviceSections()
    {
        var sections = new List<ISnapshotSection>
        {
            new StateSection<ClockState>("clock", Clock),
            new StateSection<Devices.Interrupts.PicChipState>("pic-master", Pic.MasterState),
            new StateSection<Devices.Interrupts.PicChipState>("pic-slave", Pic.SlaveState),
        };
        for (int i = 0; i < Apics.Count; i++) sections.Add(new StateSection<Devices.Interrupts.LocalApicState>($"lapic{i}", Apics[i]));
        sections.Add(new StateSection<Devices.Interrupts.IoApicState>("ioapic", IoApic));
        sections.Add(new StateSection<Devices.Uart16550.Uart16550State>($"uart@{Q35Layout.Com1.Ports[0].Base:x}", Uart));
        sections.Add(new StateSection<Devices.FwCfg.FwCfgState>("fw_cfg", FwCfg));
        sections.Add(new StateSection<HpetState>("hpet", Hpet));
        sections.Add(new StateSection<Pit8254State>("pit", Pit));
        sections.Add(new StateSection<NmiStatusControlState>("port61", Registered<NmiStatusControl>(Q35Layout.PortB)));
        sections.Add(new StateSection<Devices.Rtc.Mc146818RtcState>("rtc", Rtc));
        sections.Add(new StateSection<Ich9PmState>("acpi-pm", Pm));
        sections.Add(new StateSection<ApmState>("apm", Registered<ApmControl>(Q35Layout.ApmControl)));
        sections.Add(new StateSection<ResetControlState>("reset-control", Registered<ResetControl>(Q35Layout.ResetControl)));
        sections.Add(new StateSection<Devices.Input.I8042State>("i8042", Keyboard));
        sections.Add(new StateSection<PciBusState>("pci", Pci));
        foreach (var f in Pci.Functions) sections.Add(PciSection($"pci/00:{f.SourceId >> 3:x2}.{f.SourceId & 7}", f));
        sections.Add(new StateSection<Devices.Iommu.IntelIommuState>("vtd", Iommu));
        return sections;
    }

    private T Registered<T>(BoardDevice board) where T : class =>
        Devices.Find(board.Name)?.Device as T ?? throw new InvalidOperationException($"{board.Name} is not a {typeof(T).Name}");

    private static ISnapshotSection PciSection(string name, PciFunction f) => f switch
    {
        PciHostBridge h => new StateSection<PciConfigState>(name, h),
        EduDevice e => new StateSection<EduState>(name, e),
        DmaEngine d => new StateSection<DmaEngineState>(name, d),
        _ => throw new InvalidOperationException($"PCI function {f.Name} has no state section"),
    };
}
