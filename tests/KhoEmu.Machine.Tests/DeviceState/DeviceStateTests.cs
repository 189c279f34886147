using KhoEmu.Machine.Board;
using NUnit.Framework;
using static KhoEmu.Machine.Tests.DeviceState.StateRig;

namespace KhoEmu.Machine.Tests.DeviceState;

/// <summary>
/// The ISA and interrupt devices: each is driven out of its reset state through its registers, its section (and the
/// others) loaded into a fresh machine, and the next reads, interrupts and timer firings compared.
/// </summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class DeviceStateTests
{
    private static uint In(PcMachine m, ushort port, int size = 1) => m.Ports.Read(port, size);

    private static void Out(PcMachine m, ushort port, uint value, int size = 1) => m.Ports.Write(port, size, value);

    private static ulong Mmio(PcMachine m, ulong address) => m.Memory.Mmio.Read(address, 4);

    [Test]
    public void UartKeepsItsRegistersAndReceiveFifo()
    {
        using var a = NewMachine();
        Out(a, 0x3FB, 0x83);            // DLAB
        Out(a, 0x3F8, 0x0C);            // 9600 baud
        Out(a, 0x3FB, 0x03);
        Out(a, 0x3F9, 0x01);            // receive interrupt
        Out(a, 0x3FF, 0x5A);
        a.Uart.Receive("abc"u8);
        using var b = Restore(a, "uart@3f8");
        for (int i = 0; i < 4; i++)
        {
            Same(a, b, m => In(m, 0x3FA), $"IIR, read {i}");
            Same(a, b, m => In(m, 0x3FD), $"LSR, read {i}");
            Same(a, b, m => In(m, 0x3F8), $"RBR, read {i}");
        }
        Same(a, b, m => In(m, 0x3FF), "scratch");
        Out(a, 0x3FB, 0x83);
        Out(b, 0x3FB, 0x83);
        Same(a, b, m => In(m, 0x3F8), "divisor latch");
    }

    [Test]
    public void PitAndPort61ContinueCountingAndInterrupting()
    {
        using var a = NewMachine();
        Out(a, 0x43, 0x34);             // counter 0, lsb/msb, mode 2
        Out(a, 0x40, 0xE8);
        Out(a, 0x40, 0x03);             // 1000 ticks: IRQ 0 at 1.19 kHz
        a.Clock.AdvanceTo(123_456);
        Out(a, 0x43, 0x00);             // latch counter 0
        Out(a, 0x61, 0x03);             // gate 2 and speaker on
        Out(a, 0x43, 0xB0);             // counter 2, mode 0
        Out(a, 0x42, 0x10);             // lsb only written: the msb is awaited
        using var b = Restore(a, "pit", "port61", "clock");
        Same(a, b, m => m.Clock.NextDeadline, "the next OUT0 edge");
        Same(a, b, m => In(m, 0x40), "latched count, low byte");
        Same(a, b, m => In(m, 0x40), "latched count, high byte");
        Out(a, 0x42, 0x00);
        Out(b, 0x42, 0x00);
        AdvanceBoth(a, b, 5_000_000);
        Same(a, b, m => In(m, 0x61), "port 0x61 (OUT2, refresh toggle)");
        Same(a, b, m => In(m, 0x61), "port 0x61 again");
        Same(a, b, m => In(m, 0x40) | In(m, 0x40) << 8, "counter 0 now");
        AdvanceBoth(a, b, 9_876_543);
    }

    [Test]
    public void PicsKeepInitialisationMasksAndInService()
    {
        using var a = NewMachine();
        foreach (var (port, v) in new (ushort, uint)[] { (0x20, 0x11), (0x21, 0x20), (0x21, 0x04), (0x21, 0x01), (0x21, 0xF8),
                     (0xA0, 0x11), (0xA1, 0x28), (0xA1, 0x02), (0xA1, 0x01), (0xA1, 0x00) })
            Out(a, port, v);
        a.Pic.SetIrq(1, true);
        a.Pic.SetIrq(9, true);
        Assert.That(a.Pic.Acknowledge(), Is.EqualTo(0x21));
        using var b = Restore(a, "pic-master", "pic-slave");
        Same(a, b, m => m.Pic.Acknowledge(), "nothing below IRQ 1 while it is in service");
        Out(a, 0x20, 0x0B);
        Out(b, 0x20, 0x0B);
        Same(a, b, m => In(m, 0x20), "ISR through OCW3");
        Same(a, b, m => In(m, 0xA1), "slave IMR");
        Out(a, 0x20, 0x20);
        Out(b, 0x20, 0x20);
        Same(a, b, m => m.Pic.Acknowledge(), "the slave's IRQ 9 after the EOI");
        AssertSameDevices(a, b, "after the acknowledge");
    }

    [Test]
    public void LocalApicTimerFiresAtTheSameTimesAfterARestore()
    {
        using var a = NewMachine();
        const ulong apic = Q35Layout.LocalApicBase;
        a.Memory.Mmio.Write(apic + 0xF0, 4, 0x1FF);
        a.Memory.Mmio.Write(apic + 0x3E0, 4, 0x3);          // divide by 16
        a.Memory.Mmio.Write(apic + 0x320, 4, 0x20040);      // periodic, vector 0x40
        a.Memory.Mmio.Write(apic + 0x380, 4, 5000);
        a.Memory.Mmio.Write(apic + 0x80, 4, 0x20);
        a.Clock.AdvanceTo(30_000);
        a.Apic.Accept(0x55, levelTriggered: true);
        using var b = Restore(a, "lapic0", "clock");
        Same(a, b, m => Mmio(m, apic + 0x390), "current count");
        Same(a, b, m => m.Clock.NextDeadline, "next timer interrupt");
        AdvanceBoth(a, b, 1_000_000);
        for (int i = 0; i < 3; i++) Same(a, b, m => m.Apic.Acknowledge(), $"acknowledge {i}");
        Same(a, b, m => Mmio(m, apic + 0x390), "current count later");
        AdvanceBoth(a, b, 2_345_678);
    }

    [Test]
    public void IoApicKeepsRedirectionsAndHeldLines()
    {
        using var a = NewMachine();
        const ulong io = Q35Layout.IoApicBase;
        void Set(PcMachine m, uint reg, uint v)
        {
            m.Memory.Mmio.Write(io, 4, reg);
            m.Memory.Mmio.Write(io + 0x10, 4, v);
        }
        Set(a, 0, 0x0300_0000);
        Set(a, 0x10 + 2 * 5, 0x1_8035);                     // pin 5: masked, level, vector 0x35
        a.IoApic.SetIrq(5, true);
        using var b = Restore(a, "ioapic");
        Same(a, b, m => Mmio(m, io + 0x10), "the selected register (pin 5 low half)");
        Set(a, 0x10 + 2 * 5, 0x8035);                       // unmask: the held level is delivered
        Set(b, 0x10 + 2 * 5, 0x8035);
        Same(a, b, m => m.Apic.Acknowledge(), "the interrupt the held line delivers");
        AssertSameDevices(a, b, "after the delivery");
    }

    [Test]
    public void HpetComparatorsKeepCountingAndFiring()
    {
        using var a = NewMachine();
        const ulong hpet = Q35Layout.HpetBase;
        a.Memory.Mmio.Write(hpet + 0x100, 8, 0x4C);        // timer 0: interrupt enable, periodic, value set
        a.Memory.Mmio.Write(hpet + 0x108, 8, 1000);
        a.Memory.Mmio.Write(hpet + 0x108, 8, 1000);        // the period
        a.Memory.Mmio.Write(hpet + 0x120, 8, 0x6);         // timer 1: level, enabled, one-shot
        a.Memory.Mmio.Write(hpet + 0x128, 8, 4321);
        a.Memory.Mmio.Write(hpet + 0x10, 8, 0x3);          // enable with the legacy route
        a.Clock.AdvanceTo(25_003);
        using var b = Restore(a, "hpet", "clock");
        Same(a, b, m => m.Memory.Mmio.Read(hpet + 0xF0, 8), "main counter");
        Same(a, b, m => m.Clock.NextDeadline, "next comparator match");
        AdvanceBoth(a, b, 100_000);
        Same(a, b, m => m.Memory.Mmio.Read(hpet + 0x20, 8), "interrupt status");
        Same(a, b, m => m.Memory.Mmio.Read(hpet + 0x108, 8), "timer 0 comparator");
        Same(a, b, m => m.Pic.Acknowledge(), "IRQ 0 through the legacy route");
    }

    [Test]
    public void RtcKeepsItsCalendarCmosAndPeriodicInterrupt()
    {
        using var a = NewMachine();
        Out(a, 0x70, 0x0A);
        Out(a, 0x71, 0x2F);             // 2 Hz periodic rate
        Out(a, 0x70, 0x0B);
        Out(a, 0x71, 0x42);             // PIE, 24-hour BCD
        Out(a, 0x70, 0x40);
        Out(a, 0x71, 0x77);             // NVRAM
        Out(a, 0x70, 0x02);
        Out(a, 0x71, 0x33);             // minutes: the calendar moves off the start time
        a.Clock.AdvanceTo(700_000_000);
        Out(a, 0x70, 0x0C);
        using var b = Restore(a, "rtc", "clock");
        Same(a, b, m => In(m, 0x71), "register C (PF since the last read)");
        AdvanceBoth(a, b, 1_300_000_000);
        foreach (byte reg in new byte[] { 0x0C, 0x00, 0x02, 0x04, 0x40, 0x0A })
        {
            Out(a, 0x70, reg);
            Out(b, 0x70, reg);
            Same(a, b, m => In(m, 0x71), $"register 0x{reg:x2}");
        }
        Same(a, b, m => m.Rtc.Now, "the RTC's time");
    }

    [Test]
    public void AcpiPmKeepsEnablesAndRaisesTheTimerSciOnTime()
    {
        using var a = NewMachine();
        Out(a, 0xB2, 0x02);                         // ACPI_ENABLE through SMI_CMD: SCI_EN
        Out(a, 0xB3, 0x99);
        Out(a, 0x602, Devices.Acpi.Ich9PowerManagement.TmrEn, size: 2);
        Out(a, 0x628, 0x01);                        // GPE0 enable bit 0
        a.Clock.AdvanceTo(1_000_000_000);
        using var b = Restore(a, "acpi-pm", "apm", "clock");
        Same(a, b, m => m.Clock.NextDeadline, "the PM timer overflow event");
        AdvanceBoth(a, b, 3_000_000_000);
        Same(a, b, m => In(m, 0x600, 2), "PM1 status (TMR_STS)");
        Same(a, b, m => In(m, 0x604, 2), "PM1 control");
        Same(a, b, m => In(m, 0xB3), "APM status");
    }

    [Test]
    public void ResetControlAndKeyboardControllerKeepTheirBytes()
    {
        using var a = NewMachine();
        Out(a, 0xCF9, 0x0A);                        // SYS_RST | FULL_RST, no reset
        Out(a, 0x64, 0xAA);                         // self-test: 0x55 in the output buffer
        Out(a, 0x64, 0x20);                         // the command byte queued behind it
        Out(a, 0x64, 0x60);                         // awaiting a command byte
        using var b = Restore(a, "reset-control", "i8042");
        Same(a, b, m => In(m, 0xCF9), "RST_CNT");
        for (int i = 0; i < 3; i++)
        {
            Same(a, b, m => In(m, 0x64), $"8042 status {i}");
            Same(a, b, m => In(m, 0x60), $"8042 data {i}");
        }
        Out(a, 0x60, 0x03);
        Out(b, 0x60, 0x03);
        Out(a, 0x64, 0x20);
        Out(b, 0x64, 0x20);
        Same(a, b, m => In(m, 0x60), "the command byte the pending 0x60 wrote");
    }
}
