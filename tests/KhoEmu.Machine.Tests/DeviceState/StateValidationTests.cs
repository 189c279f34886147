using KhoEmu.Core.State;
using KhoEmu.Devices.Acpi;
using KhoEmu.Devices.Chipset;
using KhoEmu.Devices.FwCfg;
using KhoEmu.Devices.Input;
using KhoEmu.Devices.Interrupts;
using KhoEmu.Devices.Iommu;
using KhoEmu.Devices.Pci;
using KhoEmu.Devices.Rtc;
using KhoEmu.Devices.Timers;
using KhoEmu.Devices.Uart16550;
using MemoryPack;
using NUnit.Framework;
using static KhoEmu.Machine.Tests.DeviceState.StateRig;

namespace KhoEmu.Machine.Tests.DeviceState;

/// <summary>Each section refuses a state this machine could not hold, with a one-line reason, and changes nothing.</summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class StateValidationTests
{
    /// <summary>The machine's own state for <paramref name="section"/>, changed by <paramref name="corrupt"/>, is refused.</summary>
    private static void Refused<T>(string section, Func<T, T> corrupt, MachineConfig? config = null)
    {
        using var m = NewMachine(config);
        var state = MemoryPackSerializer.Deserialize<T>(Bytes(m, section))!;
        var before = Bytes(m, section);
        var e = Assert.Throws<SnapshotFormatException>(() => Section(m, section).Decode(MemoryPackSerializer.Serialize(corrupt(state))));
        Assert.That(e!.Message, Does.Not.Contain("\n"));
        Assert.That(Bytes(m, section), Is.EqualTo(before), "a refused state changes nothing");
    }

    [Test] public void PitWithTwoCounters() => Refused<Pit8254State>("pit", s => s with { Channels = s.Channels[..2] });
    [Test] public void PitCountBeyond16Bits() => Refused<Pit8254State>("pit", s => s with { Channels = [s.Channels[0] with { Count = 0x10001 }, s.Channels[1], s.Channels[2]] });
    [Test] public void PitModeAgainstItsControlWord() => Refused<Pit8254State>("pit", s => s with { Channels = [s.Channels[0] with { Mode = 1 }, s.Channels[1], s.Channels[2]] });
    [Test] public void PicInitStepOutOfRange() => Refused<PicChipState>("pic-master", s => s with { InitStep = 4 });
    [Test] public void IoApicWith23Pins() => Refused<IoApicState>("ioapic", s => s with { Redirection = s.Redirection[..23] });
    [Test] public void IoApicReservedRedirectionBits() => Refused<IoApicState>("ioapic", s => s with { Redirection = [.. s.Redirection[..23], 1UL << 40] });
    [Test] public void LocalApicIrrOfSevenWords() => Refused<LocalApicState>("lapic0", s => s with { Irr = new uint[7] });
    [Test] public void LocalApicDivideReservedBits() => Refused<LocalApicState>("lapic0", s => s with { Divide = 0x4 });
    [Test] public void HpetWithTwoTimers() => Refused<HpetState>("hpet", s => s with { Timers = s.Timers[..2] });
    [Test] public void HpetTimerReadOnlyBits() => Refused<HpetState>("hpet", s => s with { Timers = [s.Timers[0] with { Config = 0 }, s.Timers[1], s.Timers[2]] });
    [Test] public void Port61ReservedBits() => Refused<NmiStatusControlState>("port61", s => s with { Control = 0x20 });
    [Test] public void RtcCmosOf127Bytes() => Refused<Mc146818RtcState>("rtc", s => s with { Cmos = s.Cmos[..127] });
    [Test] public void RtcIndexBeyondCmos() => Refused<Mc146818RtcState>("rtc", s => s with { Index = 0x80 });
    [Test] public void AcpiPmGpeBlockOfFourBytes() => Refused<Ich9PmState>("acpi-pm", s => s with { GpeStatus = new byte[4] });
    [Test] public void AcpiPmOverflowOffTheToggle() => Refused<Ich9PmState>("acpi-pm", s => s with { NextOverflow = 12345 });
    [Test] public void ResetControlWithRstCpu() => Refused<ResetControlState>("reset-control", s => s with { Value = ResetControl.RstCpu });
    [Test] public void KeyboardPendingCommandWithoutData() => Refused<I8042State>("i8042", s => s with { PendingCommand = 0xAA });
    [Test] public void UartReservedIerBits() => Refused<Uart16550State>("uart@3f8", s => s with { Ier = 0xF0 });
    [Test] public void FwCfgItemsOfAnotherMachine() => Refused<FwCfgState>("fw_cfg", s => s with { ItemsHash = new byte[32] });
    [Test] public void FwCfgOffsetPastTheItem() => Refused<FwCfgState>("fw_cfg", s => s with { Offset = 5 });
    [Test] public void PciConfigOfAnotherDevice() => Refused<EduState>("pci/00:01.0", s => s with { Pci = s.Pci with { Config = [0x86, 0x80, .. s.Pci.Config[2..]] } });
    [Test] public void PciConfigSpaceOf255Bytes() => Refused<PciConfigState>("pci/00:00.0", s => s with { Config = s.Config[..255] });
    [Test] public void PciPirqAssertedByAFunctionNotOnIt() => Refused<PciBusState>("pci", s => s with { PirqAsserted = [[0x10], [], [], [], [], [], [], []] });
    [Test] public void EduBufferOfAnotherSize() => Refused<EduState>("pci/00:01.0", s => s with { Buffer = new byte[100] });
    [Test] public void DmaEngineRunningWithoutARing() => Refused<DmaEngineState>("pci/00:02.0", s => s with { Running = true, Entries = 0 });
    [Test] public void VtdQueueHeadBeyondTheQueue() => Refused<IntelIommuState>("vtd", s => s with { Gsts = IntelIommu.GcmdQie, IqEntries = 256, IqHead = 256 });
    [Test] public void VtdInterruptRemappingOnAMachineWithout() => Refused<IntelIommuState>("vtd", s => s with { InterruptRemapping = true });
    [Test] public void ClockTimerOfAnotherMachine() => Refused<ClockState>("clock", s => s with { Timers = [new("serial-input.poll", 5, 0)], Sequence = 1 });

    [Test]
    public void TruncatedSectionBytes()
    {
        using var m = NewMachine();
        var bytes = Bytes(m, "ioapic");
        Assert.Throws<SnapshotFormatException>(() => Section(m, "ioapic").Decode(bytes.AsSpan(0, bytes.Length / 2)));
    }
}
