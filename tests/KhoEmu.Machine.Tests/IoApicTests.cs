using KhoEmu.Devices.Interrupts;
using KhoEmu.Devices.Pci;
using NUnit.Framework;
using KhoEmu.Machine.Board;

namespace KhoEmu.Machine.Tests;

/// <summary>The I/O APIC and legacy INTx: edu's INTA through the q35 PIRQ routing, level semantics, EOI broadcast.</summary>
public sealed class IoApicTests
{
    private const ulong EduBar = 0xC000_0000;
    private const int Vector = 0x41;

    private static PcMachine NewMachine()
    {
        var m = new PcMachine(new MachineConfig());
        m.Ports.Write(0xCF8, 4, 0x8000_0000u | (1u << 11) | 0x10);
        m.Ports.Write(0xCFC, 4, (uint)EduBar);
        m.Ports.Write(0xCF8, 4, 0x8000_0000u | (1u << 11) | 0x04);
        m.Ports.Write(0xCFC, 4, 0x6);
        m.Memory.Mmio.Write(0xFEE0_00F0, 4, 0x1FF);                  // local APIC software enable
        return m;
    }

    private static uint Reg(PcMachine m, uint reg)
    {
        m.Memory.Mmio.Write(Q35Layout.IoApicBase, 4, reg);
        return (uint)m.Memory.Mmio.Read(Q35Layout.IoApicBase + 0x10, 4);
    }

    private static void SetReg(PcMachine m, uint reg, uint value)
    {
        m.Memory.Mmio.Write(Q35Layout.IoApicBase, 4, reg);
        m.Memory.Mmio.Write(Q35Layout.IoApicBase + 0x10, 4, value);
    }

    private static void Route(PcMachine m, int pin, int vector, bool level, bool masked = false)
    {
        SetReg(m, 0x11 + 2 * (uint)pin, 0);
        SetReg(m, 0x10 + 2 * (uint)pin, (uint)vector | (level ? 1u << 15 | 1u << 13 : 0) | (masked ? 1u << 16 : 0));
    }

    private static int EduPin => PciBus.Gsi(1, 1);

    /// <summary>
    /// Handles every pending interrupt as a driver would (acknowledge at the APIC, then, when <paramref name="eoi"/>,
    /// clear edu's interrupt status and EOI), returning the vectors in order; stops after 100 so a storm fails.
    /// </summary>
    private static List<int> TakeAll(PcMachine m, bool eoi = true)
    {
        var got = new List<int>();
        while (m.Apic.HasPending && got.Count < 100)
        {
            got.Add(m.Apic.Acknowledge());
            if (!eoi) continue;
            m.Memory.Mmio.Write(EduBar + 0x64, 4, m.Memory.Mmio.Read(EduBar + 0x24, 4));
            m.Memory.Mmio.Write(0xFEE0_00B0, 4, 0);
        }
        return got;
    }

    [Test]
    public void IdentifiesAsQemusIoApicWithAllPinsMasked()
    {
        using var m = NewMachine();
        Assert.That(Reg(m, 1), Is.EqualTo(0x0017_0020u));
        for (uint pin = 0; pin < IoApic.Pins; pin++)
            Assert.That(Reg(m, 0x10 + 2 * pin) & (1u << 16), Is.Not.Zero, $"pin {pin} masked at reset");
        SetReg(m, 0, 0x0500_0000);
        Assert.That(Reg(m, 0), Is.EqualTo(0x0500_0000u));
        Assert.That(Reg(m, 0x10 + 2 * 5) & ~0x1_0000u, Is.Zero);
        Assert.That(Reg(m, 0x99), Is.Zero, "unimplemented registers read 0");
    }

    [Test]
    public void EduIntaArrivesOnItsQ35Gsi()
    {
        using var m = NewMachine();
        Assert.That(m.Edu.InterruptPin, Is.EqualTo(1));
        Assert.That(EduPin, Is.EqualTo(21), "slot 1 INTA -> PIRQF -> GSI 21");
        Route(m, EduPin, Vector, level: true);
        m.Memory.Mmio.Write(EduBar + 0x60, 4, 0x5);                  // raise
        Assert.That(TakeAll(m, eoi: false), Is.EqualTo(new[] { Vector }));
        Assert.That(m.Memory.Mmio.Read(0xFEE0_0180 + 0x10 * (Vector >> 5), 4) & (1u << (Vector & 31)), Is.Not.Zero, "TMR marks it level");
        Assert.That(Reg(m, 0x10 + 2 * (uint)EduPin) & (1u << 14), Is.Not.Zero, "Remote IRR set");
        Assert.That(m.Memory.Mmio.Read(EduBar + 0x24, 4), Is.EqualTo(0x5UL));
        Assert.That(Config(m, 0x04) >> 16 & 0x8, Is.Not.Zero, "status.interrupt while asserted");

        m.Memory.Mmio.Write(EduBar + 0x64, 4, 0x5);                  // ack: the line drops
        m.Memory.Mmio.Write(0xFEE0_00B0, 4, 0);                       // EOI: Remote IRR clears, nothing new
        Assert.That(Reg(m, 0x10 + 2 * (uint)EduPin) & (1u << 14), Is.Zero);
        Assert.That(m.Apic.HasPending, Is.False);
        Assert.That(Config(m, 0x04) >> 16 & 0x8, Is.Zero);

        m.Memory.Mmio.Write(EduBar + 0x60, 4, 0x1);
        Assert.That(TakeAll(m), Is.EqualTo(new[] { Vector }), "a second interrupt after the EOI");
    }

    [Test]
    public void LevelLineStillHighAtEoiIsDeliveredAgain()
    {
        using var m = NewMachine();
        Route(m, EduPin, Vector, level: true);
        m.Memory.Mmio.Write(EduBar + 0x60, 4, 0x1);
        Assert.That(m.Apic.Acknowledge(), Is.EqualTo(Vector));
        Assert.That(m.Apic.HasPending, Is.False, "no redelivery while Remote IRR is set");
        m.Memory.Mmio.Write(0xFEE0_00B0, 4, 0);                       // EOI without acking the device
        Assert.That(m.Apic.HasPending, Is.True, "the line is still asserted");
        Assert.That(m.IoApic.Delivered, Is.EqualTo(2));
    }

    [Test]
    public void MaskedPinHoldsTheLevelUntilUnmasked()
    {
        using var m = NewMachine();
        Route(m, EduPin, Vector, level: true, masked: true);
        m.Memory.Mmio.Write(EduBar + 0x60, 4, 0x1);
        Assert.That(m.Apic.HasPending, Is.False);
        Route(m, EduPin, Vector, level: true);
        Assert.That(TakeAll(m), Is.EqualTo(new[] { Vector }));
    }

    [Test]
    public void InterruptDisableAndMsiKeepIntxQuiet()
    {
        using var m = NewMachine();
        Route(m, EduPin, Vector, level: true);
        SetConfig(m, 0x04, 0x406);                                    // memory, bus master, INTx disable
        m.Memory.Mmio.Write(EduBar + 0x60, 4, 0x1);
        Assert.That(m.Apic.HasPending, Is.False);
        Assert.That(Config(m, 0x04) >> 16 & 0x8, Is.Not.Zero, "the request still shows in status");
        SetConfig(m, 0x04, 0x006);                                    // re-enabled: the pending request arrives
        Assert.That(TakeAll(m), Is.EqualTo(new[] { Vector }));
        m.Memory.Mmio.Write(EduBar + 0x64, 4, 0x1);

        SetConfig(m, 0x44, 0xFEE0_0000);                              // MSI address, data = vector 0x52, enable
        SetConfig(m, 0x4C, 0x52);
        SetConfig(m, 0x40, (Config(m, 0x40) & 0xFFFF) | (1u << 16));
        m.Memory.Mmio.Write(EduBar + 0x60, 4, 0x1);
        Assert.That(TakeAll(m), Is.EqualTo(new[] { 0x52 }), "MSI, and INTx stays low");
        Assert.That(Reg(m, 0x10 + 2 * (uint)EduPin) & (1u << 14), Is.Zero);
    }

    [Test]
    public void PitTimerReachesInputTwoEdgeTriggered()
    {
        using var m = NewMachine();
        Route(m, 2, 0x30, level: false);
        m.Ports.Write(0x43, 1, 0x34);                                 // channel 0, lobyte/hibyte, rate generator
        m.Ports.Write(0x40, 1, 0x00);
        m.Ports.Write(0x40, 1, 0x10);                                 // 4096 counts ≈ 3.4 ms
        m.Clock.AdvanceTo(m.Clock.Now + 10_000_000);                  // 10 ms
        var got = TakeAll(m);
        Assert.That(got, Is.Not.Empty.And.All.EqualTo(0x30));
        Assert.That(m.Memory.Mmio.Read(0xFEE0_0180 + 0x10, 4) & (1u << 16), Is.Zero, "edge-triggered: TMR clear");
    }

    private static uint Config(PcMachine m, int reg)
    {
        m.Ports.Write(0xCF8, 4, 0x8000_0000u | (1u << 11) | (uint)reg);
        return m.Ports.Read(0xCFC, 4);
    }

    private static void SetConfig(PcMachine m, int reg, uint value)
    {
        m.Ports.Write(0xCF8, 4, 0x8000_0000u | (1u << 11) | (uint)reg);
        m.Ports.Write(0xCFC, 4, value);
    }
}
