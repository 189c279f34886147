using KhoEmu.Core;
using KhoEmu.Devices.Acpi;
using NUnit.Framework;

namespace KhoEmu.Machine.Tests.Chipset;

/// <summary>The ICH9 ACPI PM block (ACPI 6.4 chapter 4.8) and SMI_CMD, as QEMU's q35 has them.</summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class AcpiPmTests
{
    private sealed class Rig
    {
        public readonly VirtualClock Clock = new();
        public readonly RecordingIrqLine Sci;
        public readonly Ich9PowerManagement Pm;
        public readonly ApmControl Apm;
        public int PowerOffs;

        public Rig()
        {
            Sci = new RecordingIrqLine(Clock);
            Pm = new Ich9PowerManagement(Clock, Sci, () => PowerOffs++);
            Apm = new ApmControl(Pm.ApmCommand);
        }

        public uint In(int offset, int size) => Pm.ReadPort((ushort)offset, size);
        public void Out(int offset, int size, uint value) => Pm.WritePort((ushort)offset, size, value);
        public void Advance(ulong ns) => Clock.AdvanceTo(Clock.Now + ns);
    }

    [Test]
    public void PmTimerCounts3579545HzIn24Bits()
    {
        var r = new Rig();
        r.Advance(1_000_000_000);
        Assert.That(r.In(8, 4), Is.EqualTo(3_579_545u & 0xFFFFFF));
        r.Advance(1_000_000);
        Assert.That(r.In(8, 4), Is.EqualTo((uint)(3_579_545UL * 1001 / 1000) & 0xFFFFFF));
        r.Clock.AdvanceTo(5_000_000_000);             // 17.9 M ticks: the counter has wrapped at 2^24
        Assert.That(r.In(8, 4), Is.EqualTo((uint)(3_579_545UL * 5 % (1 << 24))));
        Assert.That(r.In(8, 1), Is.EqualTo(r.In(8, 4) & 0xFF), "byte reads");
        Assert.That(r.In(0xB, 1), Is.Zero, "bits 24-31 read 0");
    }

    [Test]
    public void TmrStsSetsOnBit23ToggleAndRaisesSciWhenEnabled()
    {
        var r = new Rig();
        ulong toggleNs = (ulong)Math.Ceiling((1UL << 23) * 1e9 / Ich9PowerManagement.TimerHz);   // 2.343 s
        r.Clock.AdvanceTo(toggleNs - 1);
        Assert.That(r.In(0, 2) & 1, Is.Zero);
        r.Clock.AdvanceTo(toggleNs);
        Assert.That(r.In(0, 2) & 1, Is.EqualTo(1u));
        Assert.That(r.Sci.Changes, Is.Empty, "not enabled: no SCI");
        r.Out(2, 2, Ich9PowerManagement.TmrEn);
        Assert.That(r.Sci.Level, "status & enable raises the SCI");
        r.Out(0, 2, 1);                               // write 1 to clear
        Assert.That(r.In(0, 2) & 1, Is.Zero);
        Assert.That(r.Sci.Level, Is.False);
        r.Clock.AdvanceTo(r.Clock.NextDeadline);
        Assert.That(r.Clock.Now, Is.EqualTo(2 * toggleNs).Within(1), "the next toggle, 2^23 ticks later");
        Assert.That(r.Sci.Level);
    }

    [Test]
    public void PowerButtonAndWriteOneToClear()
    {
        var r = new Rig();
        r.Pm.PressPowerButton();
        Assert.That(r.In(0, 2), Is.EqualTo((uint)Ich9PowerManagement.PwrBtnSts));
        Assert.That(r.Sci.Level, Is.False);
        r.Out(2, 2, Ich9PowerManagement.PwrBtnEn);
        Assert.That(r.Sci.Level);
        r.Out(0, 2, 0x0001);                          // another bit: PWRBTN_STS stays
        Assert.That(r.In(0, 2) & Ich9PowerManagement.PwrBtnSts, Is.Not.Zero);
        r.Out(1, 1, Ich9PowerManagement.PwrBtnSts >> 8);
        Assert.That(r.In(0, 2), Is.Zero);
        Assert.That(r.Sci.Level, Is.False);
        Assert.That(r.In(0, 4), Is.EqualTo((uint)Ich9PowerManagement.PwrBtnEn << 16), "dword read: status and enable");
    }

    [Test]
    public void SmiCmdEnablesAndDisablesAcpiMode()
    {
        var r = new Rig();
        Assert.That(r.In(4, 2) & 1, Is.Zero, "legacy mode at reset");
        r.Apm.WritePort(0, 1, 0x02);                  // ACPI_ENABLE
        Assert.That(r.In(4, 2) & 1, Is.EqualTo(1u));
        Assert.That(r.Apm.ReadPort(0, 1), Is.EqualTo(0x02u));
        r.Apm.WritePort(0, 1, 0x03);                  // ACPI_DISABLE
        Assert.That(r.In(4, 2) & 1, Is.Zero);
        r.Apm.WritePort(1, 1, 0x5A);
        Assert.That(r.Apm.ReadPort(1, 1), Is.EqualTo(0x5Au), "APMS scratch");
    }

    [Test]
    public void SleepTypeZeroWithSlpEnPowersOffAndOtherTypesWakeAtOnce()
    {
        var r = new Rig();
        r.Out(4, 2, 1 << 10);                         // SLP_TYP 1 without SLP_EN: stored only
        Assert.That(r.In(4, 2), Is.EqualTo(1u << 10));
        Assert.That(r.PowerOffs, Is.Zero);
        r.Out(4, 2, 1 << 10 | 1 << 13);               // S3 (unmodelled): immediate wake
        Assert.That(r.In(0, 2) & Ich9PowerManagement.WakSts, Is.Not.Zero);
        Assert.That(r.In(4, 2) & (1 << 13), Is.Zero, "SLP_EN reads 0");
        Assert.That(r.PowerOffs, Is.Zero);
        r.Out(4, 2, 1 << 13 | 1);                     // S5
        Assert.That(r.PowerOffs, Is.EqualTo(1));
    }

    [Test]
    public void Gpe0StatusIsWriteOneToClearAndRaisesSci()
    {
        var r = new Rig();
        r.Out(0x28, 1, 0x02);
        Assert.That(r.In(0x28, 4), Is.EqualTo(0x02u));
        r.Pm.RaiseGpe(1);
        Assert.That(r.In(0x20, 1), Is.EqualTo(0x02u));
        Assert.That(r.Sci.Level);
        r.Out(0x20, 1, 0x02);
        Assert.That(r.In(0x20, 1), Is.Zero);
        Assert.That(r.Sci.Level, Is.False);
        r.Pm.RaiseGpe(63);
        Assert.That(r.In(0x27, 1), Is.EqualTo(0x80u), "16-byte block: 8 status bytes");
        Assert.That(r.Sci.Level, Is.False, "bit 63 not enabled");
    }
}
