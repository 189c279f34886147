using KhoEmu.Core;
using KhoEmu.Devices.Chipset;
using KhoEmu.Devices.Input;
using NUnit.Framework;

namespace KhoEmu.Machine.Tests.Chipset;

/// <summary>Reset control (ICH9 RST_CNT) and the 8042 without devices, register by register.</summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class ResetAndKeyboardTests
{
    private sealed class Kbc
    {
        public readonly VirtualClock Clock = new();
        public readonly RecordingIrqLine Irq1, Irq12;
        public readonly I8042Controller Dev;
        public int Resets;

        public Kbc()
        {
            Irq1 = new RecordingIrqLine(Clock);
            Irq12 = new RecordingIrqLine(Clock);
            Dev = new I8042Controller(() => Resets++, Irq1, Irq12);
        }

        public byte Status => (byte)Dev.ReadPort(I8042Controller.CommandOffset, 1);
        public void Command(byte v) => Dev.WritePort(I8042Controller.CommandOffset, 1, v);
        public void Data(byte v) => Dev.WritePort(0, 1, v);
        public byte ReadData() => (byte)Dev.ReadPort(0, 1);
    }

    [Test]
    public void ResetControlResetsOnRstCpuAndKeepsBitsOneAndThree()
    {
        int resets = 0;
        var rcr = new ResetControl(() => resets++);
        rcr.WritePort(0, 1, 0x0A);
        Assert.That(rcr.ReadPort(0, 1), Is.EqualTo(0x0Au));
        rcr.WritePort(0, 1, 0xF1);
        Assert.That(rcr.ReadPort(0, 1), Is.Zero, "only SYS_RST and FULL_RST are kept");
        Assert.That(resets, Is.Zero);
        rcr.WritePort(0, 1, 0x06);                    // the FADT reset value
        Assert.That(resets, Is.EqualTo(1));
    }

    [Test]
    public void ControllerSelfTestsAndReportsCommandByte()
    {
        var k = new Kbc();
        Assert.That(k.Status, Is.EqualTo(0x18), "after power-on: last write was a command, not inhibited");
        k.Command(0xAA);
        Assert.That(k.Status & 0x05, Is.EqualTo(0x05), "output full and SYS after the self-test");
        Assert.That(k.Irq1.Level, "IRQ 1 with the keyboard interrupt enabled");
        Assert.That(k.ReadData(), Is.EqualTo(0x55));
        Assert.That(k.Status & 1, Is.Zero);
        Assert.That(k.Irq1.Level, Is.False);
        k.Command(0xAB);
        Assert.That(k.ReadData(), Is.Zero, "keyboard interface test passes");
        k.Command(0xA9);
        Assert.That(k.ReadData(), Is.Zero, "aux interface test passes");
        k.Command(0x20);
        byte mode = k.ReadData();
        Assert.That(mode, Is.EqualTo(0x07), "interrupts enabled, SYS");
        k.Command(0xAD);
        k.Command(0xA7);
        k.Command(0x20);
        Assert.That(k.ReadData(), Is.EqualTo(0x37), "keyboard and aux disabled");
        k.Command(0xAE);
        k.Command(0xA8);
        k.Command(0x60);
        Assert.That(k.Status & 0x08, Is.Not.Zero);
        k.Data(0x44);                                 // no interrupts, translation off, SYS
        Assert.That(k.Status & 0x08, Is.Zero, "a data write clears CMD/DATA");
        k.Command(0x20);
        Assert.That(k.Irq1.Level, Is.False, "interrupts off in the command byte");
        Assert.That(k.ReadData(), Is.EqualTo(0x44));
    }

    [Test]
    public void LoopbackAndAbsentDevices()
    {
        var k = new Kbc();
        k.Command(0xD3);
        k.Data(0x5A);                                 // Linux's i8042_check_aux loopback
        Assert.That(k.Status & 0x21, Is.EqualTo(0x21), "aux output full");
        Assert.That(k.Irq12.Level);
        Assert.That(k.ReadData(), Is.EqualTo(0x5A));
        k.Data(0xFF);                                 // keyboard reset to an absent keyboard
        k.Command(0xD4);
        k.Data(0xF2);                                 // get ID to an absent mouse
        Assert.That(k.Status & 1, Is.Zero, "nothing answers");
    }

    [Test]
    public void OutputPortAndPulseReset()
    {
        var k = new Kbc();
        k.Command(0xD0);
        Assert.That(k.ReadData(), Is.EqualTo(0xCF), "reset line high, A20 on, QEMU's ones (and OBF while queued)");
        k.Command(0xDD);
        Assert.That(k.Dev.A20, Is.False);
        k.Command(0xDF);
        Assert.That(k.Dev.A20);
        k.Command(0xFF);                              // pulse nothing
        Assert.That(k.Resets, Is.Zero);
        k.Command(0xD1);
        k.Data(0xDF);                                 // A20 on, reset bit high
        Assert.That(k.Resets, Is.Zero);
        k.Command(0xD1);
        k.Data(0xDE);                                 // reset bit low
        Assert.That(k.Resets, Is.EqualTo(1));
        k.Command(0xFE);
        Assert.That(k.Resets, Is.EqualTo(2));
    }
}
