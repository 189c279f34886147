using KhoEmu.Core;
using KhoEmu.Devices.Rtc;
using NUnit.Framework;

namespace KhoEmu.Machine.Tests.Chipset;

/// <summary>The MC146818 RTC against its data sheet and QEMU's model: formats, UIP, SET, divider, interrupts.</summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class RtcTests
{
    private const ulong Second = 1_000_000_000;

    private sealed class Rig(DateTime start)
    {
        public readonly VirtualClock Clock = new();
        public RecordingIrqLine Irq = null!;
        public Mc146818Rtc Rtc = null!;

        public Rig Build()
        {
            Irq = new RecordingIrqLine(Clock);
            Rtc = new Mc146818Rtc(Clock, Irq, start);
            return this;
        }

        public byte Read(int index)
        {
            Rtc.WritePort(0, 1, (uint)index);
            return (byte)Rtc.ReadPort(1, 1);
        }

        public void Write(int index, byte value)
        {
            Rtc.WritePort(0, 1, (uint)index);
            Rtc.WritePort(1, 1, value);
        }

        public void Advance(ulong ns) => Clock.AdvanceTo(Clock.Now + ns);

        public byte[] Time() => [Read(0), Read(2), Read(4), Read(6), Read(7), Read(8), Read(9), Read(0x32)];
    }

    private static Rig At(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) => new Rig(new DateTime(y, mo, d, h, mi, s)).Build();

    [Test]
    public void PowerOnRegistersMatchQemu()
    {
        var r = At(2025, 1, 1);
        Assert.That(r.Read(0x0A), Is.EqualTo(0x26));
        Assert.That(r.Read(0x0B), Is.EqualTo(0x02), "24-hour BCD");
        Assert.That(r.Read(0x0C), Is.Zero);
        Assert.That(r.Read(0x0D), Is.EqualTo(0x80), "VRT");
        Assert.That(r.Rtc.ReadPort(0, 1), Is.EqualTo(0xFF), "the index register is write-only");
    }

    [Test]
    public void DateReadsInBcdAndBinary()
    {
        var r = At(2025, 1, 1);
        // sec, min, hour, weekday (Wednesday = 4 with Sunday = 1), day, month, year, century.
        Assert.That(r.Time(), Is.EqualTo(new byte[] { 0x00, 0x00, 0x00, 0x04, 0x01, 0x01, 0x25, 0x20 }));
        r.Advance(3661 * Second + 500_000_000);
        Assert.That(r.Time(), Is.EqualTo(new byte[] { 0x01, 0x01, 0x01, 0x04, 0x01, 0x01, 0x25, 0x20 }));
        r.Write(0x0B, 0x06);                          // binary, 24-hour
        Assert.That(r.Time(), Is.EqualTo(new byte[] { 1, 1, 1, 4, 1, 1, 25, 20 }));
        Assert.That(r.Rtc.Now, Is.EqualTo(new DateTime(2025, 1, 1, 1, 1, 1)));
    }

    [Test]
    public void TwelveHourModeUsesBit7ForPm()
    {
        var r = At(2024, 2, 29, 23, 59, 58);
        r.Write(0x0B, 0x00);                          // 12-hour BCD
        Assert.That(r.Read(4), Is.EqualTo(0x80 | 0x11), "11 PM");
        r.Advance(2 * Second);                        // midnight: leap day rolls into March
        Assert.That(r.Read(4), Is.EqualTo(0x12), "12 AM");
        Assert.That(r.Read(7), Is.EqualTo(0x01));
        Assert.That(r.Read(8), Is.EqualTo(0x03));
        Assert.That(r.Read(6), Is.EqualTo(0x06), "Friday");
        r.Write(0x0B, 0x04);                          // 12-hour binary
        r.Advance(13 * 3600 * Second);
        Assert.That(r.Read(4), Is.EqualTo(0x80 | 1), "1 PM in binary");
    }

    [Test]
    public void UipIsSetForThe244MicrosecondsBeforeEachUpdate()
    {
        var r = At(2025, 1, 1);
        ulong? rise = null, fall = null;
        bool last = false;
        for (ulong t = 0; t < 2 * Second && fall is null; t += 1000)
        {
            r.Clock.AdvanceTo(t);
            bool uip = (r.Read(0x0A) & 0x80) != 0;
            if (uip && !last) rise = t;
            if (!uip && last) fall = t;
            last = uip;
        }
        Assert.That(rise, Is.EqualTo(Second - 244_000), "first sample with UIP at 1 s - 244.14 µs (1 µs grid)");
        Assert.That(fall, Is.EqualTo(Second));
        Assert.That(r.Read(0), Is.EqualTo(0x01), "the update happened");
    }

    [Test]
    public void LinuxStyleUipPollFinishesWithinTheHoldTime()
    {
        // mc146818_get_time(): wait while UIP, then read; from any phase the wait is at most 244 µs.
        var r = At(2025, 1, 1);
        r.Clock.AdvanceTo(Second - 200_000);
        ulong start = r.Clock.Now;
        while ((r.Read(0x0A) & 0x80) != 0) r.Advance(1000);
        Assert.That(r.Clock.Now - start, Is.LessThanOrEqualTo((ulong)Mc146818Rtc.UipHoldNs));
        Assert.That(r.Read(0), Is.EqualTo(0x01));
    }

    [Test]
    public void SetBitFreezesAndTheWrittenTimeRunsOn()
    {
        var r = At(2025, 1, 1);
        r.Write(0x0B, 0x02 | 0x10);                   // UIE on
        r.Write(0x0B, 0x82 | 0x10);                   // SET clears UIE
        Assert.That(r.Read(0x0B), Is.EqualTo(0x82));
        r.Write(0, 0x30);
        r.Write(2, 0x45);
        r.Write(4, 0x12);
        r.Write(7, 0x31);
        r.Write(8, 0x12);
        r.Write(9, 0x99);
        r.Write(0x32, 0x19);
        r.Advance(5 * Second);
        Assert.That(r.Read(0), Is.EqualTo(0x30), "no updates while SET");
        Assert.That(r.Read(0x0A) & 0x80, Is.Zero, "no UIP while SET");
        r.Write(0x0B, 0x02);
        r.Advance(30 * Second);
        Assert.That(r.Rtc.Now, Is.EqualTo(new DateTime(1999, 12, 31, 12, 46, 0)));
    }

    [Test]
    public void DividerResetHoldsTimeAndTheFirstUpdateComesHalfASecondLater()
    {
        var r = At(2025, 1, 1);
        r.Advance(300_000_000);
        r.Write(0x0A, 0x76);                          // divider reset
        r.Advance(10 * Second);
        Assert.That(r.Read(0), Is.Zero);
        r.Write(0x0A, 0x26);
        ulong start = r.Clock.Now;
        while (r.Read(0) == 0) r.Advance(1_000_000);
        Assert.That(r.Clock.Now - start, Is.EqualTo(500_000_000UL));
    }

    [Test]
    public void PeriodicInterruptRateFollowsRateSelect()
    {
        foreach (var (rs, hz) in new[] { (6, 1024), (15, 2), (3, 8192), (1, 256) })
        {
            var r = At(2025, 1, 1);
            r.Write(0x0A, (byte)(0x20 | rs));
            r.Write(0x0B, 0x42);                      // PIE
            int interrupts = 0;
            ulong end = r.Clock.Now + Second;
            while (r.Clock.Now < end)
            {
                // An interrupt handler: take the IRQ, read register C (which lowers the line).
                r.Clock.AdvanceTo(Math.Min(r.Clock.NextDeadline, end));
                if (!r.Irq.Level) continue;
                byte c = r.Read(0x0C);
                Assert.That(c & 0xC0, Is.EqualTo(0xC0), "IRQF and PF");
                Assert.That(r.Irq.Level, Is.False, "reading C lowers the line");
                interrupts++;
            }
            Assert.That(interrupts, Is.EqualTo(hz), $"RS={rs}");
        }
    }

    [Test]
    public void AlarmInterruptsAtTheMatchingSecondAndDontCareMatchesAll()
    {
        var r = At(2025, 1, 1, 10, 0, 0);
        r.Write(1, 0x05);
        r.Write(3, 0x00);
        r.Write(5, 0x10);
        r.Write(0x0B, 0x22);                          // AIE
        r.Clock.AdvanceTo(r.Clock.NextDeadline);
        Assert.That(r.Irq.Level);
        Assert.That(r.Clock.Now, Is.EqualTo(5 * Second));
        Assert.That(r.Read(0x0C) & 0xB0, Is.EqualTo(0xA0 | 0x10), "IRQF, AF (and UF, which is not enabled)");
        Assert.That(r.Read(0x0C), Is.Zero, "read to clear");
        r.Write(5, 0xC0);                             // any hour
        r.Write(3, 0xC0);                             // any minute: the alarm matches second 5 of every minute
        r.Clock.AdvanceTo(r.Clock.NextDeadline);
        Assert.That(r.Clock.Now, Is.EqualTo(65 * Second));
    }

    [Test]
    public void FlagsSetWithoutEnablesRaiseNoInterrupt()
    {
        var r = At(2025, 1, 1);
        r.Advance(3 * Second);
        Assert.That(r.Clock.NextDeadline, Is.EqualTo(ulong.MaxValue), "no events while no interrupt is enabled");
        byte c = r.Read(0x0C);
        Assert.That(c, Is.EqualTo(0x40 | 0x10), "PF and UF, no IRQF");
        Assert.That(r.Irq.Changes, Is.Empty);
        r.Write(0x0B, 0x12);                          // UIE
        r.Clock.AdvanceTo(r.Clock.NextDeadline);
        Assert.That(r.Clock.Now, Is.EqualTo(4 * Second), "update-ended interrupt at the next update");
        Assert.That(r.Irq.Level);
        Assert.That(r.Clock.NextDeadline, Is.EqualTo(ulong.MaxValue), "nothing more to do until C is read");
    }

    [Test]
    public void IndexBit7IsTheNmiMaskAndNvramHolds128Bytes()
    {
        var r = At(2025, 1, 1);
        r.Rtc.WritePort(0, 1, 0x80 | 0x40);
        Assert.That(r.Rtc.NmiMasked);
        r.Rtc.WritePort(1, 1, 0xA5);
        Assert.That(r.Read(0x40), Is.EqualTo(0xA5));
        Assert.That(r.Rtc.NmiMasked, Is.False);
        r.Write(0x7F, 0x5A);
        Assert.That(r.Read(0xFF), Is.EqualTo(0x5A), "the index has 7 bits");
        r.Write(0x0C, 0xFF);
        r.Write(0x0D, 0x00);
        Assert.That(r.Read(0x0C), Is.Zero, "C is read-only");
        Assert.That(r.Read(0x0D), Is.EqualTo(0x80), "D is read-only");
    }

    [Test]
    public void GarbageTimeValuesNeverThrow()
    {
        var r = At(2025, 1, 1);
        var rng = new Random(7);
        for (int i = 0; i < 20_000; i++)
        {
            r.Write(rng.Next(0x0E) is var idx && idx == 0x0C ? 0x32 : idx, (byte)rng.Next(256));
            r.Read(rng.Next(128));
            if (rng.Next(10) == 0) r.Advance((ulong)rng.Next(2_000_000_000));
        }
        Assert.Pass("no exception");
    }

    [TestCase(512UL << 20, 0x1F00, 0xFFFF, 0)]
    [TestCase(6UL << 30, 0x7F00, 0xFFFF, 0x10000)]
    [TestCase(8UL << 20, 0, 7168, 0)]
    public void MachineFillsQemusMemorySizeBytes(ulong ram, int above16M, int extended, int above4G)
    {
        using var m = new PcMachine(new MachineConfig { MemorySize = ram });
        int Cmos(int i)
        {
            m.Ports.Write(0x70, 1, (uint)i);
            return (int)m.Ports.Read(0x71, 1);
        }
        Assert.That(Cmos(0x34) | Cmos(0x35) << 8, Is.EqualTo(above16M), "64 KiB units 16 MiB..4 GiB");
        Assert.That(Cmos(0x30) | Cmos(0x31) << 8, Is.EqualTo(extended), "KiB above 1 MiB, capped");
        Assert.That(Cmos(0x17) | Cmos(0x18) << 8, Is.EqualTo(extended));
        Assert.That(Cmos(0x15) | Cmos(0x16) << 8, Is.EqualTo(640));
        Assert.That(Cmos(0x5B) | Cmos(0x5C) << 8 | Cmos(0x5D) << 16, Is.EqualTo(above4G));
        Assert.That(Cmos(0x5F), Is.Zero, "one CPU");
        Assert.That(Cmos(9), Is.EqualTo(0x25), "default RTC base 2025");
    }

    [Test]
    public void RtcOptionParsesQemuSyntax()
    {
        var host = new DateTime(2031, 7, 4, 12, 34, 56, DateTimeKind.Utc);
        Assert.That(QemuOptions.ParseRtc("base=2006-06-17T16:01:21", () => host), Is.EqualTo(new DateTime(2006, 6, 17, 16, 1, 21)));
        Assert.That(QemuOptions.ParseRtc("base=2006-06-17", () => host), Is.EqualTo(new DateTime(2006, 6, 17)));
        Assert.That(QemuOptions.ParseRtc("base=utc,clock=vm,driftfix=slew", () => host), Is.EqualTo(new DateTime(2031, 7, 4, 12, 34, 56)));
        Assert.That(QemuOptions.ParseRtc("clock=vm", () => throw new InvalidOperationException("host time read")),
            Is.EqualTo(MachineConfig.DefaultRtcBase), "host time is read only for utc/localtime");
        Assert.That(() => QemuOptions.ParseRtc("base=yesterday", () => host), Throws.TypeOf<FormatException>().With.Message.Contains("YYYY-MM-DD"));
        Assert.That(() => QemuOptions.ParseRtc("clock=host", () => host), Throws.TypeOf<FormatException>().With.Message.Contains("virtual time"));
        Assert.That(() => QemuOptions.ParseRtc("speed=2", () => host), Throws.TypeOf<FormatException>());
    }
}
