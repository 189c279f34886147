using Iced.Intel;
using KhoEmu.Elf;
using KhoEmu.Machine.Boot;
using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Machine.Tests.Chipset;

/// <summary>Tiny 32-bit PVH guests driving the chipset as Linux does: calibration, RTC read, power-off, resets.</summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class ChipsetGuestTests
{
    private const ulong Base = 0x10_0000;
    private const uint Results = 0x2000;

    private static byte[] Guest(Action<Assembler> body)
    {
        var a = new Assembler(32);
        body(a);
        var hang = a.CreateLabel();
        a.Label(ref hang);
        a.hlt();
        a.jmp(hang);
        using var ms = new MemoryStream();
        a.Assemble(new StreamCodeWriter(ms), Base);
        var w = new ElfWriter(ElfWriter.FileKind.Executable) { Entry = Base };
        w.AddSegment(Base, Base, ms.ToArray(), (ulong)ms.Length, 5);
        w.AddNote("Xen", DirectBoot.PvhNoteType, BitConverter.GetBytes(Base));
        return w.Build();
    }

    private static void Out8(Assembler a, ushort port, byte value)
    {
        a.mov(dx, port);
        a.mov(al, value);
        a.@out(dx, al);
    }

    private static (MachineExit Exit, PcMachine Machine) Run(byte[] kernel, bool noReboot = false)
    {
        var m = new PcMachine(new MachineConfig { Kernel = kernel, NoReboot = noReboot });
        return (m.Run(200_000_000), m);
    }

    [Test]
    public void TscCalibrationAgainstPitChannel2AgreesWithHpetAndPmTimer()
    {
        // pit_calibrate_tsc(): gate on, speaker off, channel 2 mode 0 with a 10 ms latch; read TSC, HPET and PM
        // timer at both ends of the wait for OUT2 (the HPET is enabled first, as the kernel's hpet_enable does).
        const int latch = 1_193_182 / 100;
        var kernel = Guest(a =>
        {
            var poll = a.CreateLabel();
            a.mov(__dword_ptr[0xFED0_0010], 1);
            a.mov(dx, 0x61);
            a.@in(al, dx);
            a.and(al, 0xFC);
            a.or(al, 1);
            a.@out(dx, al);
            Out8(a, 0x43, 0xB0);
            Out8(a, 0x42, latch & 0xFF);
            Out8(a, 0x42, latch >> 8);
            a.rdtsc();
            a.mov(esi, eax);
            a.mov(edi, __dword_ptr[0xFED0_00F0]);
            a.mov(dx, 0x608);
            a.@in(eax, dx);
            a.mov(ebp, eax);
            a.mov(dx, 0x61);
            a.Label(ref poll);
            a.@in(al, dx);
            a.test(al, 0x20);
            a.jz(poll);
            a.rdtsc();
            a.sub(eax, esi);
            a.mov(__dword_ptr[Results], eax);
            a.mov(eax, __dword_ptr[0xFED0_00F0]);
            a.sub(eax, edi);
            a.mov(__dword_ptr[Results + 4], eax);
            a.mov(dx, 0x608);
            a.@in(eax, dx);
            a.sub(eax, ebp);
            a.and(eax, 0xFF_FFFF);
            a.mov(__dword_ptr[Results + 8], eax);
            a.mov(dx, 0xF4);
            a.@out(dx, al);
        });
        var (exit, m) = Run(kernel);
        using (m)
        {
            Assert.That(exit.Kind, Is.EqualTo(ExitKind.DebugExit), exit.Diagnostic);
            double windowNs = latch * 1e9 / 1_193_182;
            Assert.That((double)m.Memory.ReadPhys(Results, 4), Is.EqualTo(windowNs).Within(100), "TSC (1 GHz) ticks in the window");
            Assert.That((double)m.Memory.ReadPhys(Results + 4, 4), Is.EqualTo(windowNs / 10).Within(10), "HPET 100 MHz ticks");
            Assert.That((double)m.Memory.ReadPhys(Results + 8, 4), Is.EqualTo(windowNs * 3.579545e-3).Within(2), "PM timer ticks");
        }
    }

    [Test]
    public void GuestReadsTheRtcDateWithoutWaitingASecond()
    {
        // mc146818_get_time(): wait while UIP, then read the fields; the start time is the configured base.
        var kernel = Guest(a =>
        {
            var uip = a.CreateLabel();
            a.Label(ref uip);
            Out8(a, 0x70, 0x0A);
            a.mov(dx, 0x71);
            a.@in(al, dx);
            a.test(al, 0x80);
            a.jnz(uip);
            foreach (var (reg, slot) in new[] { (9, 0), (8, 1), (7, 2), (4, 3), (2, 4), (0, 5), (0x32, 6) })
            {
                Out8(a, 0x70, (byte)reg);
                a.mov(dx, 0x71);
                a.@in(al, dx);
                a.mov(__byte_ptr[Results + (uint)slot], al);
            }
            a.rdtsc();
            a.mov(__dword_ptr[Results + 8], eax);
            a.mov(dx, 0xF4);
            a.@out(dx, al);
        });
        using var m = new PcMachine(new MachineConfig { Kernel = kernel, RtcBase = new DateTime(2023, 9, 10, 18, 42, 7) });
        var exit = m.Run(200_000_000);
        Assert.That(exit.Kind, Is.EqualTo(ExitKind.DebugExit), exit.Diagnostic);
        var bytes = new byte[7];
        m.Memory.Read(Results, bytes);
        Assert.That(bytes, Is.EqualTo(new byte[] { 0x23, 0x09, 0x10, 0x18, 0x42, 0x07, 0x20 }));
        Assert.That(m.Memory.ReadPhys(Results + 8, 4), Is.LessThan(1_000_000u), "well under a millisecond of virtual time");
    }

    [Test]
    public void AcpiEnableThenS5PowersOff()
    {
        var kernel = Guest(a =>
        {
            var wait = a.CreateLabel();
            Out8(a, 0xB2, 0x02);                      // ACPI_ENABLE through SMI_CMD
            a.mov(dx, 0x604);
            a.Label(ref wait);
            a.@in(ax, dx);
            a.test(ax, 1);                            // SCI_EN
            a.jz(wait);
            a.mov(ax, 0x2001);                        // SLP_EN | SLP_TYP 0, keep SCI_EN
            a.@out(dx, ax);
        });
        var (exit, m) = Run(kernel);
        using (m)
        {
            Assert.That(exit.Kind, Is.EqualTo(ExitKind.PowerOff), exit.Diagnostic);
            Assert.That(exit.ExitCode, Is.Zero);
        }
    }

    [TestCase(true)]
    [TestCase(false)]
    public void ResetControlRegisterEndsTheRunWithReset(bool noReboot)
    {
        var (exit, m) = Run(Guest(a => Out8(a, 0xCF9, 0x06)), noReboot);
        using (m)
        {
            Assert.That(exit.Kind, Is.EqualTo(ExitKind.Reset), "the caller reboots unless NoReboot; the run ends either way");
            Assert.That(exit.ExitCode, Is.Zero);
            Assert.That(exit.Diagnostic, Does.Contain("0xcf9"));
        }
    }

    [Test]
    public void KeyboardControllerPulseResets()
    {
        var kernel = Guest(a =>
        {
            var wait = a.CreateLabel();
            a.mov(dx, 0x64);
            a.Label(ref wait);                        // Linux's kb_wait(): input buffer empty
            a.@in(al, dx);
            a.test(al, 0x02);
            a.jnz(wait);
            a.mov(al, 0xFE);
            a.@out(dx, al);
        });
        var (exit, m) = Run(kernel, noReboot: true);
        using (m)
        {
            Assert.That(exit.Kind, Is.EqualTo(ExitKind.Reset));
            Assert.That(exit.Diagnostic, Does.Contain("keyboard"));
        }
    }

    [Test]
    public void DwordConfigAccessesStillReachPciAroundTheResetRegister()
    {
        using var m = new PcMachine(new MachineConfig());
        m.Ports.Write(0xCF8, 4, 0x8000_0000);
        Assert.That(m.Ports.Read(0xCFC, 4), Is.EqualTo(0x29C0_8086u), "q35 host bridge");
        Assert.That(m.Ports.Read(0xCF8, 4), Is.EqualTo(0x8000_0000u));
        m.Ports.Write(0xCF9, 1, 0x02);
        Assert.That(m.Ports.Read(0xCF9, 1), Is.EqualTo(0x02u), "a byte at 0xCF9 is the reset control register");
        Assert.That(m.Ports.Read(0xCF8, 4), Is.EqualTo(0x8000_0000u), "and leaves the PCI address alone");
    }
}
