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
    public void AnApProcessorsLocalApicAndTimerGoIntoTheSameProcessorsApic()
    {
        var config = Config();
        config.Smp = CpuTopology.Cores1Socket(2);
        using var a = NewMachine(config);
        a.Apics[1].WriteMmio(0xF0, 4, 0x1FF);
        a.Apics[1].WriteMmio(0x320, 4, 0x41);               // one-shot, vector 0x41
        a.Apics[1].WriteMmio(0x380, 4, 777);
        a.Apics[1].Accept(0x90);
        using var b = Restore(a, config, "lapic1", "clock");
        Assert.That(b.Apics[0].HasPending, Is.False, "processor 0's APIC is untouched");
        AdvanceBoth(a, b, 100_000);
        Same(a, b, m => (m.Apics[1].Acknowledge(), m.Apics[1].HasPending), "processor 1's next interrupt");
    }

    [Test]
    public void AMachineAfterABootStretchRestoresIntoAFreshOneWithEqualBytes()
    {
        // The demo guest programs the devices it uses; the device state after some instructions goes into a fresh
        // machine whole, and a second save of the fresh machine gives the same bytes.
        using var a = NewMachine();
        a.Run(200_000);
        using var b = NewMachine();
        CopyDevices(a, b);                                  // the first one pays for JIT compilation
        var watch = System.Diagnostics.Stopwatch.StartNew();
        int bytes = a.DeviceSections.Sum(s => s.Save().Length);
        var saved = watch.Elapsed;
        CopyDevices(a, b);
        TestContext.Out.WriteLine($"{a.DeviceSections.Count} device sections, {bytes} bytes; save {saved.TotalMilliseconds:F2} ms, " +
            $"save+decode+apply {watch.Elapsed.TotalMilliseconds:F2} ms");
        AssertSameDevices(a, b, "after the load");
        Assert.That(b.Clock.Now, Is.EqualTo(a.Clock.Now));
        Assert.That(bytes, Is.LessThan(8192), "the device state is small: edu's 4 KiB buffer and registers");
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
