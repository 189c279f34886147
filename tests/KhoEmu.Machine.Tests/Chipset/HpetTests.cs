using KhoEmu.Core;
using KhoEmu.Devices.Timers;
using NUnit.Framework;

namespace KhoEmu.Machine.Tests.Chipset;

/// <summary>The HPET against the IA-PC HPET specification 1.0a and QEMU's hpet.c register values.</summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class HpetTests
{
    private const ulong Cfg = 0x10, Isr = 0x20, Counter = 0xF0;
    private static ulong TimerCfg(int n) => 0x100 + 0x20 * (ulong)n;
    private static ulong TimerCmp(int n) => 0x108 + 0x20 * (ulong)n;

    private sealed class Rig
    {
        public readonly VirtualClock Clock = new();
        public readonly RecordingIrqLine Irq0, Irq8;
        public readonly List<(ulong Time, int Pin, bool Level)> Pins = [];
        public readonly Hpet Hpet;

        public Rig()
        {
            Irq0 = new RecordingIrqLine(Clock);
            Irq8 = new RecordingIrqLine(Clock);
            Hpet = new Hpet(Clock, Irq0, Irq8, (pin, level) => Pins.Add((Clock.Now, pin, level)));
        }

        public ulong Read(ulong offset, int size = 8) => Hpet.ReadMmio(offset, size);
        public void Write(ulong offset, ulong value, int size = 8) => Hpet.WriteMmio(offset, size, value);
        public void Advance(ulong ns) => Clock.AdvanceTo(Clock.Now + ns);
        public IEnumerable<ulong> Rising(int pin) => Pins.Where(p => p.Pin == pin && p.Level).Select(p => p.Time);
    }

    [Test]
    public void CapabilitiesAreQemus()
    {
        var r = new Rig();
        Assert.That(r.Read(0, 4), Is.EqualTo(0x8086_A201UL), "rev 1, 3 timers, 64-bit, legacy capable, vendor 8086");
        Assert.That(r.Read(4, 4), Is.EqualTo(10_000_000UL), "10 ns in femtoseconds");
        Assert.That(r.Read(0), Is.EqualTo(0x0098_9680_8086_A201UL));
        for (int n = 0; n < 3; n++)
        {
            Assert.That(r.Read(TimerCfg(n) + 4, 4), Is.EqualTo(0x00FF_0104UL), "routes: IRQ 2, 8, 16-23");
            Assert.That(r.Read(TimerCfg(n), 4), Is.EqualTo(0x30UL), "periodic and 64-bit capable");
            Assert.That(r.Read(TimerCmp(n)), Is.EqualTo(ulong.MaxValue));
        }
        Assert.That(r.Read(Cfg), Is.Zero);
        Assert.That(r.Read(0x400 - 8), Is.Zero, "unimplemented offsets read 0");
    }

    [Test]
    public void MainCounterRunsAt100MHzOnlyWhileEnabled()
    {
        var r = new Rig();
        r.Advance(1_000_000);
        Assert.That(r.Read(Counter), Is.Zero, "halted at reset");
        r.Write(Counter, 1_000);                      // writable while halted
        r.Write(Cfg, 1);
        r.Advance(1_000_000);
        Assert.That(r.Read(Counter), Is.EqualTo(1_000UL + 100_000));
        r.Write(Counter, 0);                          // ignored while counting
        Assert.That(r.Read(Counter), Is.EqualTo(101_000UL));
        Assert.That(r.Read(Counter + 4, 4), Is.Zero);
        r.Write(Cfg, 0);
        r.Advance(5_000_000);
        Assert.That(r.Read(Counter), Is.EqualTo(101_000UL), "holds when disabled");
        r.Write(Cfg, 1);
        r.Advance(10);
        Assert.That(r.Read(Counter, 4), Is.EqualTo(101_001UL));
    }

    [Test]
    public void OneShotComparatorInterruptsOnceOnItsRoute()
    {
        var r = new Rig();
        r.Write(TimerCfg(2), (17UL << 9) | HpetTimer.InterruptEnable, 4);   // route 17, edge
        r.Write(TimerCmp(2), 5_000);
        r.Write(Cfg, 1);
        r.Advance(1_000_000);
        Assert.That(r.Rising(17), Is.EqualTo(new ulong[] { 50_000 }), "one edge when the counter reaches 5000");
        Assert.That(r.Read(Isr), Is.Zero, "edge-triggered timers leave no status");
        r.Write(TimerCmp(2), 10);                     // already passed: fires one tick later, as QEMU
        r.Advance(1_000);
        Assert.That(r.Rising(17).Count(), Is.EqualTo(2));
        Assert.That(r.Rising(17).Last(), Is.EqualTo(1_000_010UL));
    }

    [Test]
    public void PeriodicTimerFiresEveryPeriodAndItsComparatorAdvances()
    {
        var r = new Rig();
        // Linux's hpet_clkevt_set_state_periodic: enable, periodic, value-set, 32-bit; then comparator and period.
        r.Write(TimerCfg(0), (2UL << 9) | HpetTimer.InterruptEnable | HpetTimer.Periodic | HpetTimer.ValueSet | HpetTimer.Mode32, 4);
        r.Write(TimerCmp(0), 100_000, 4);             // value-set: comparator and period
        r.Write(TimerCmp(0), 100_000, 4);             // the second write sets the period only
        r.Write(Cfg, 1);
        r.Advance(10_000_000);
        var edges = r.Rising(2).ToList();
        Assert.That(edges, Has.Count.EqualTo(10), string.Join(",", edges));
        Assert.That(edges.Zip(edges.Skip(1), (a, b) => b - a), Is.All.EqualTo(1_000_000UL), "1 ms period");
        Assert.That(r.Read(TimerCmp(0)), Is.EqualTo(1_100_000UL), "the comparator is one period ahead");
    }

    [Test]
    public void LegacyReplacementTakesIrq0AndIrq8FromThePitAndRtc()
    {
        var r = new Rig();
        r.Hpet.PitOutput.Set(true);
        Assert.That(r.Irq0.Level, "the PIT drives IRQ 0 normally");
        r.Write(TimerCfg(0), HpetTimer.InterruptEnable, 4);
        r.Write(TimerCmp(0), 1_000);
        r.Write(TimerCfg(1), HpetTimer.InterruptEnable, 4);
        r.Write(TimerCmp(1), 2_000);
        r.Write(Cfg, 3);                              // enable + legacy route
        Assert.That(r.Irq0.Level, Is.False, "the PIT is cut off");
        r.Hpet.PitOutput.Set(false);
        r.Hpet.PitOutput.Set(true);
        r.Hpet.RtcOutput.Set(true);
        Assert.That(r.Irq8.Level, Is.False, "the RTC is cut off");
        r.Advance(100_000);
        Assert.That(r.Irq0.RisingEdges, Is.EqualTo(new ulong[] { 0, 10_000 }), "timer 0 on IRQ 0 (the 0 is the PIT before)");
        Assert.That(r.Irq8.RisingEdges, Is.EqualTo(new ulong[] { 20_000 }), "timer 1 on IRQ 8");
        Assert.That(r.Pins, Is.Empty, "nothing on the timers' own routes");
        r.Write(Cfg, 1);
        Assert.That(r.Irq0.Level && r.Irq8.Level, "leaving legacy mode gives the lines back at the sources' levels");
    }

    [Test]
    public void LevelTriggeredStatusHoldsTheLineUntilWrittenOne()
    {
        var r = new Rig();
        r.Write(TimerCfg(1), (20UL << 9) | HpetTimer.InterruptEnable | HpetTimer.LevelTriggered, 4);
        r.Write(TimerCmp(1), 100);
        r.Write(Cfg, 1);
        r.Advance(10_000);
        Assert.That(r.Read(Isr), Is.EqualTo(2UL));
        Assert.That(r.Pins, Is.EqualTo(new[] { (1_000UL, 20, true) }));
        r.Write(Isr, 1, 4);                           // the wrong bit: nothing changes
        Assert.That(r.Read(Isr), Is.EqualTo(2UL));
        r.Write(Isr, 2, 4);
        Assert.That(r.Read(Isr), Is.Zero);
        Assert.That(r.Pins[^1], Is.EqualTo((10_000UL, 20, false)));
    }

    [Test]
    public void ThirtyTwoBitModeMatchesAfterTheLowHalfWraps()
    {
        var r = new Rig();
        r.Write(Counter, 0xFFFF_FF00);
        r.Write(TimerCfg(2), (16UL << 9) | HpetTimer.InterruptEnable | HpetTimer.Mode32, 4);
        r.Write(TimerCmp(2), 0x1_0000_0010);          // truncated to 0x10
        Assert.That(r.Read(TimerCmp(2)), Is.EqualTo(0x10UL));
        r.Write(Cfg, 1);
        r.Advance(10_000);
        Assert.That(r.Rising(16), Is.EqualTo(new ulong[] { (0x100 + 0x10) * 10 }));
    }

    [Test]
    public void FarComparatorNeverFiresEarly()
    {
        var r = new Rig();
        r.Write(TimerCfg(2), (18UL << 9) | HpetTimer.InterruptEnable, 4);
        r.Write(TimerCmp(2), 0x1999_9999_9999_999A);  // 5800 years at 100 MHz; in ns it would wrap 2^64 to 4
        r.Write(Cfg, 1);
        Assert.That(r.Clock.NextDeadline, Is.EqualTo(ulong.MaxValue), "nothing scheduled within reach");
        r.Advance(10_000_000_000);
        Assert.That(r.Pins, Is.Empty);
    }

    [Test]
    public void RandomTrafficNeverThrows()
    {
        var r = new Rig();
        var rng = new Random(5);
        for (int i = 0; i < 100_000; i++)
        {
            int size = 1 << rng.Next(4);
            ulong offset = (ulong)rng.Next(0x400) & ~(ulong)(size - 1);
            ulong value = (ulong)rng.NextInt64();
            if (rng.Next(3) == 0) value &= 0xFF;
            if (rng.Next(2) == 0) r.Write(offset, value, size);
            else r.Read(offset, size);
            if (rng.Next(20) == 0) r.Advance((ulong)rng.Next(1_000_000));
        }
        Assert.That(r.Read(0, 4), Is.EqualTo(0x8086_A201UL), "capabilities stay read-only");
    }
}
