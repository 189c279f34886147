using KhoEmu.Core;
using KhoEmu.Devices.Timers;
using NUnit.Framework;

namespace KhoEmu.Machine.Tests.Chipset;

/// <summary>The 8254 against the 82C54 data sheet's mode definitions, and port 0x61 as Linux's TSC calibration uses it.</summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class PitTests
{
    private static ulong TicksToNs(ulong ticks) => (ulong)Math.Ceiling(ticks * 1e9 / PitChannel.InputHz);

    private sealed class Rig
    {
        public readonly VirtualClock Clock = new();
        public readonly RecordingIrqLine Irq0;
        public readonly Pit8254 Pit;
        public readonly NmiStatusControl Port61;

        public Rig()
        {
            Irq0 = new RecordingIrqLine(Clock);
            Pit = new Pit8254(Clock, Irq0);
            Port61 = new NmiStatusControl(Pit.Channel(2));
            Assert.That(Irq0.Level, Is.True, "OUT0 is high at power-on (mode 3, as QEMU resets it)");
            Irq0.Changes.Clear();
        }

        public void Out(int port, byte v)
        {
            if (port == 0x61) Port61.WritePort(0, 1, v);
            else Pit.WritePort((ushort)(port - 0x40), 1, v);
        }

        public byte In(int port) => port == 0x61 ? (byte)Port61.ReadPort(0, 1) : (byte)Pit.ReadPort((ushort)(port - 0x40), 1);

        public void Advance(ulong ns) => Clock.AdvanceTo(Clock.Now + ns);
    }

    [Test]
    public void Channel2OneShotRaisesOut2OnPort61AfterTheLatchAsLinuxCalibrationPolls()
    {
        // arch/x86/kernel/tsc.c pit_calibrate_tsc(): gate high, speaker off; channel 2 mode 0 binary; 50 ms latch.
        var r = new Rig();
        r.Advance(12_345);
        r.Out(0x61, (byte)((r.In(0x61) & ~0x02) | 0x01));
        r.Out(0x43, 0xB0);
        const int latch = 1_193_182 / 20;
        r.Out(0x42, latch & 0xFF);
        r.Out(0x42, latch >> 8);
        ulong start = r.Clock.Now;
        int polls = 0;
        while ((r.In(0x61) & 0x20) == 0 && polls < 1_000_000)
        {
            r.Advance(100);
            polls++;
        }
        ulong elapsed = r.Clock.Now - start;
        Assert.That((double)elapsed, Is.EqualTo(TicksToNs(latch)).Within(100), "OUT2 rises after exactly the latch count");
        Assert.That(elapsed, Is.InRange(49_900_000UL, 50_100_000UL));
        Assert.That(r.In(0x61) & 0x01, Is.EqualTo(1), "gate bit reads back");
        Assert.That(r.In(0x61) & 0x02, Is.Zero, "speaker off");
        Assert.That(r.Irq0.Changes, Is.Empty, "channel 2 drives no interrupt");
    }

    [Test]
    public void QuickCalibrationSeesTheMsbStepEvery256Ticks()
    {
        // quick_pit_calibrate(): mode 0 at 0xffff, then unlatched LSB/MSB read pairs; the MSB falls every 256 ticks.
        var r = new Rig();
        r.Out(0x61, 0x01);
        r.Out(0x43, 0xB0);
        r.Out(0x42, 0xFF);
        r.Out(0x42, 0xFF);
        var msbChanges = new List<ulong>();
        int lastMsb = -1;
        for (int i = 0; i < 20_000; i++)
        {
            r.In(0x42);
            int msb = r.In(0x42);
            if (lastMsb >= 0 && msb != lastMsb)
            {
                Assert.That(msb, Is.EqualTo(lastMsb - 1), "the MSB counts down one step at a time");
                msbChanges.Add(r.Clock.Now);
            }
            lastMsb = msb;
            r.Advance(50);
        }
        Assert.That(msbChanges.Count, Is.GreaterThan(3));
        for (int i = 1; i < msbChanges.Count; i++)
            Assert.That((double)(msbChanges[i] - msbChanges[i - 1]), Is.EqualTo(256e9 / PitChannel.InputHz).Within(60));
    }

    [Test]
    public void GateLowPausesModeZeroAndHighResumes()
    {
        var r = new Rig();
        r.Out(0x61, 0x01);
        r.Out(0x43, 0xB0);
        r.Out(0x42, 0x00);
        r.Out(0x42, 0x10);                            // 4096
        r.Advance(TicksToNs(1000));
        r.Out(0x61, 0x00);                            // gate low: counting stops
        r.Out(0x43, 0x80);                            // latch channel 2
        int held = r.In(0x42) | r.In(0x42) << 8;
        Assert.That(held, Is.EqualTo(4096 - 1000).Within(1));
        r.Advance(10_000_000);
        r.Out(0x43, 0x80);
        Assert.That(r.In(0x42) | r.In(0x42) << 8, Is.EqualTo(held), "no counting while the gate is low");
        Assert.That(r.In(0x61) & 0x20, Is.Zero);
        r.Out(0x61, 0x01);
        r.Advance(TicksToNs((ulong)held) + 1000);
        Assert.That(r.In(0x61) & 0x20, Is.EqualTo(0x20), "terminal count after the remaining ticks");
    }

    [Test]
    public void CounterLatchHoldsTheCountAndReadBackReportsStatus()
    {
        var r = new Rig();
        r.Out(0x61, 0x01);
        r.Out(0x43, 0xB6);                            // channel 2, lobyte/hibyte, mode 3, binary
        Assert.That(ReadBackStatus(r, 2) & 0x40, Is.EqualTo(0x40), "null count before a count is written");
        r.Out(0x42, 0x00);
        r.Out(0x42, 0x20);                            // 0x2000
        r.Advance(TicksToNs(100));
        r.Out(0x43, 0x80);
        r.Advance(1_000_000);                         // time passes; the latched value does not move
        int latched = r.In(0x42) | r.In(0x42) << 8;
        Assert.That(latched, Is.EqualTo(0x2000 - 200).Within(2), "mode 3 counts down by two");
        byte status = ReadBackStatus(r, 2);
        Assert.That(status & 0x3F, Is.EqualTo(0x36), "access 3, mode 3, binary");
        Assert.That(status & 0x40, Is.Zero, "count loaded");
        // Read-back latching both: status comes first, then the count.
        r.Out(0x43, 0xC0 | 0x08);
        Assert.That(r.In(0x42) & 0x3F, Is.EqualTo(0x36));
        int count = r.In(0x42) | r.In(0x42) << 8;
        Assert.That(count, Is.InRange(1, 0x2000));
    }

    private static byte ReadBackStatus(Rig r, int channel)
    {
        r.Out(0x43, (byte)(0xE0 | (2 << channel)));  // read-back: don't latch count, latch status
        return r.In(0x40 + channel);
    }

    [Test]
    public void ModeThreeOnChannel2IsASquareWave()
    {
        var r = new Rig();
        r.Out(0x61, 0x01);
        r.Out(0x43, 0xB6);
        r.Out(0x42, 100);
        r.Out(0x42, 0);
        int high = 0;
        const int samples = 10_000;
        for (int i = 0; i < samples; i++)
        {
            if ((r.In(0x61) & 0x20) != 0) high++;
            r.Advance(97);
        }
        Assert.That(high / (double)samples, Is.EqualTo(0.5).Within(0.02));
    }

    [Test]
    public void ChannelZeroRateGeneratorInterruptsOncePerPeriod()
    {
        var r = new Rig();
        r.Out(0x43, 0x34);                            // Linux's periodic PIT clockevent: mode 2
        const int latch = 11932;                      // 100 Hz
        r.Out(0x40, latch & 0xFF);
        r.Out(0x40, latch >> 8);
        r.Advance(1_000_000_000);
        var edges = r.Irq0.RisingEdges.ToList();
        Assert.That(edges.Count, Is.InRange(99, 100));
        Assert.That((double)(edges[^1] - edges[0]) / (edges.Count - 1), Is.EqualTo(latch * 1e9 / PitChannel.InputHz).Within(2));
    }

    [Test]
    public void ChannelZeroSoftwareStrobeFiresOnce()
    {
        var r = new Rig();
        r.Out(0x43, 0x38);                            // Linux's one-shot PIT clockevent: mode 4
        r.Out(0x40, 0xE8);
        r.Out(0x40, 0x03);                            // 1000 ticks
        ulong start = r.Clock.Now;
        r.Advance(100_000_000);
        var edges = r.Irq0.RisingEdges.ToList();
        Assert.That(edges, Has.Count.EqualTo(1), "one strobe");
        Assert.That((double)(edges[0] - start), Is.EqualTo(TicksToNs(1001)).Within(1), "OUT rises after the low clock at terminal count");
    }

    [Test]
    public void ModeOneIsTriggeredByTheGateRisingEdge()
    {
        var r = new Rig();
        r.Out(0x43, 0xB2);                            // channel 2, mode 1
        r.Out(0x42, 0xE8);
        r.Out(0x42, 0x03);
        r.Advance(5_000_000);
        Assert.That(r.In(0x61) & 0x20, Is.EqualTo(0x20), "OUT high until triggered");
        r.Out(0x61, 0x01);
        r.Advance(TicksToNs(500));
        Assert.That(r.In(0x61) & 0x20, Is.Zero, "low while the one-shot runs");
        r.Advance(TicksToNs(600));
        Assert.That(r.In(0x61) & 0x20, Is.EqualTo(0x20));
    }

    [Test]
    public void BcdCountingUsesDecimalCounts()
    {
        var r = new Rig();
        r.Out(0x61, 0x01);
        r.Out(0x43, 0xB1);                            // channel 2, mode 0, BCD
        r.Out(0x42, 0x00);
        r.Out(0x42, 0x10);                            // BCD 1000
        r.Advance(TicksToNs(1));
        r.Out(0x43, 0x80);
        Assert.That(r.In(0x42) | r.In(0x42) << 8, Is.EqualTo(0x0999), "999 in BCD");
        r.Advance(TicksToNs(999));
        Assert.That(r.In(0x61) & 0x20, Is.EqualTo(0x20));
    }

    [Test]
    public void Port61RefreshBitTogglesOnEveryRead()
    {
        var r = new Rig();
        int a = r.In(0x61) & 0x10, b = r.In(0x61) & 0x10, c = r.In(0x61) & 0x10;
        Assert.That(a, Is.Not.EqualTo(b));
        Assert.That(c, Is.EqualTo(a));
        r.Out(0x61, 0x0F);
        Assert.That(r.In(0x61) & 0x0F, Is.EqualTo(0x0F), "gate, speaker and the NMI enables read back");
        Assert.That(r.Port61.SpeakerEnabled);
    }
}
