using KhoEmu.Cpu.Smp;
using NUnit.Framework;
using static KhoEmu.Machine.Tests.DeviceState.StateRig;

namespace KhoEmu.Machine.Tests.DeviceState;

/// <summary>The machine's device section list as a whole.</summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class MachineSectionsTests
{
    [Test]
    public void NamesAreUniqueAndTheClockComesFirst()
    {
        using var m = NewMachine();
        var names = m.DeviceSections.Select(s => s.Name).ToList();
        Assert.That(names, Is.Unique);
        Assert.That(names[0], Is.EqualTo("clock"));
        Assert.That(names, Is.SupersetOf(new[] { "pic-master", "pic-slave", "lapic0", "ioapic", "uart@3f8", "fw_cfg", "hpet", "pit",
            "port61", "rtc", "acpi-pm", "apm", "reset-control", "i8042", "pci", "pci/00:00.0", "pci/00:01.0", "pci/00:02.0", "vtd" }));
    }

    [Test]
    public void EveryProcessorsLocalApicHasASectionAndATimer()
    {
        var config = Config();
        config.Smp = CpuTopology.Cores1Socket(3);
        using var m = NewMachine(config);
        Assert.That(m.DeviceSections.Select(s => s.Name), Is.SupersetOf(new[] { "lapic0", "lapic1", "lapic2" }));
        Assert.That(m.Clock.Timers.Keys, Is.SupersetOf(new[] { "lapic0.timer", "lapic1.timer", "lapic2.timer" }));
    }

    [Test]
    public void AMachineAfterABootStretchRestoresIntoAFreshOneWithEqualBytes()
    {
        // The demo guest programs the devices it uses; the device state after some instructions goes into a fresh
        // machine whole, and a second save of the fresh machine gives the same bytes.
        using var a = NewMachine();
        a.Run(200_000);
        using var b = NewMachine();
        CopyDevices(a, b);
        AssertSameDevices(a, b, "after the load");
        Assert.That(b.Clock.Now, Is.EqualTo(a.Clock.Now));
    }

    [Test]
    public void ASerialInputMachineSavesItsPollTimer()
    {
        var config = Config();
        config.SerialInput = new MemoryStream("x"u8.ToArray());
        using var m = NewMachine(config);
        Assert.That(m.Clock.SaveState().Timers.Select(t => t.Name), Does.Contain(SerialInputPump.TimerName));
    }
}
