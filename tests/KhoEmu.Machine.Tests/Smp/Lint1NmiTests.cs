using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;
using static KhoEmu.Machine.Tests.Smp.SmpGuest;

namespace KhoEmu.Machine.Tests.Smp;

/// <summary>
/// The board's NMI line on LINT1 (SDM vol. 3, 11.5.1; QEMU's monitor <c>nmi</c> through <see cref="PcMachine.InjectNmi"/>):
/// delivered as the LVT LINT1 entry says (NMI mode: an NMI; masked: dropped; fixed: the entry's vector), straight to
/// the processor while the APIC is globally disabled (11.4.3), and dropped by a software-disabled APIC, whose LVT
/// entries stay masked (11.4.7.2). The guest programs the APIC, then spins while the host injects the NMI.
/// </summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class Lint1NmiTests
{
    private const uint NmiCount = Results + 0x200, FixedCount = Results + 0x204, Ready = Results + 0x10;
    private const int FixedVector = 0x42;

    public enum Setup { NmiMode, Masked, FixedMode, GloballyDisabled, SoftwareDisabled }

    [TestCase(Setup.NmiMode, 1u, 0u)]
    [TestCase(Setup.Masked, 0u, 0u)]
    [TestCase(Setup.FixedMode, 0u, 1u)]
    [TestCase(Setup.GloballyDisabled, 1u, 0u)]
    [TestCase(Setup.SoftwareDisabled, 0u, 0u)]
    public void Lint1DeliversAsTheLvtSays(Setup setup, uint nmis, uint fixedInterrupts)
    {
        var g = new SmpGuest();                                     // SVR = 0x1FF: software-enabled
        switch (setup)
        {
            case Setup.NmiMode: g.A.mov(__dword_ptr[ApicBase + 0x360], 0x400); break;
            case Setup.Masked: g.A.mov(__dword_ptr[ApicBase + 0x360], 0x1_0400); break;
            case Setup.FixedMode: g.A.mov(__dword_ptr[ApicBase + 0x360], FixedVector); break;
            case Setup.GloballyDisabled:
                g.A.mov(__dword_ptr[ApicBase + 0x360], 0x1_0400);   // masked, but the APIC is bypassed
                g.A.mov(ecx, 0x1B); g.A.rdmsr(); g.A.and(eax, ~(1 << 11)); g.A.wrmsr();
                break;
            case Setup.SoftwareDisabled:
                g.A.mov(__dword_ptr[ApicBase + 0xF0], 0xFF);         // software-disable first
                g.A.mov(__dword_ptr[ApicBase + 0x360], 0x400);       // the mask bit stays set
                g.A.mov(eax, __dword_ptr[ApicBase + 0x360]);
                g.A.mov(__dword_ptr[Results + 0x20], eax);
                break;
        }
        g.A.sti();
        g.A.mov(__dword_ptr[Ready], 1);
        g.A.mov(ecx, 200_000);
        var spin = g.A.CreateLabel();
        g.A.Label(ref spin);
        g.A.pause();
        g.A.loop(spin);
        g.Exit(Done);

        var nmi = g.A.CreateLabel();
        g.A.Label(ref nmi);
        g.A.inc(__dword_ptr[NmiCount]);
        g.A.iretd();
        var fixedHandler = g.A.CreateLabel();
        g.A.Label(ref fixedHandler);
        g.A.inc(__dword_ptr[FixedCount]);
        g.Eoi();
        g.A.iretd();
        g.Gate(2, nmi);
        g.Gate(FixedVector, fixedHandler);

        g.BeginAp();                                                // (the build wants the AP entry; never run)
        g.A.hlt();
        using var m = g.Build(cpus: 1);
        var first = m.Run(2_000);
        Assert.That(first.Kind, Is.EqualTo(ExitKind.InstructionLimit), first.Diagnostic);
        Assert.That(Dword(m, Ready), Is.EqualTo(1u), "the guest set up its APIC");
        m.InjectNmi();
        var exit = m.Run(10_000_000);
        Assert.That(exit.ExitCode, Is.EqualTo((Done << 1) | 1), exit.Diagnostic);
        Assert.That(Dword(m, NmiCount), Is.EqualTo(nmis), "NMIs");
        Assert.That(Dword(m, FixedCount), Is.EqualTo(fixedInterrupts), "fixed interrupts");
        if (setup == Setup.SoftwareDisabled) Assert.That(Dword(m, Results + 0x20), Is.EqualTo(0x1_0400u), "LVT LINT1 reads masked");
    }

    /// <summary>On two processors the line reaches every LINT1: the BSP's entry in NMI mode takes it, the AP's
    /// (masked since power-on, as Linux leaves it on APs) drops it.</summary>
    [Test]
    public void TheNmiLineReachesEveryProcessorsLint1()
    {
        var g = new SmpGuest();
        g.A.mov(__dword_ptr[ApicBase + 0x360], 0x400);
        g.StartAp(1);
        g.WaitFor(Results + 0x30, 1, 1);
        g.A.mov(__dword_ptr[Ready], 1);
        g.A.mov(ecx, 200_000);
        var spin = g.A.CreateLabel();
        g.A.Label(ref spin);
        g.A.pause();
        g.A.loop(spin);
        g.Exit(Done);
        g.BeginAp();
        g.A.mov(__dword_ptr[Results + 0x30], 1);
        var idle = g.A.CreateLabel();
        g.A.Label(ref idle);
        g.A.pause();
        g.A.jmp(idle);
        var nmi = g.A.CreateLabel();
        g.A.Label(ref nmi);
        g.A.push(eax);
        g.ApicIdToEax();
        g.A.inc(__dword_ptr[eax * 4 + NmiCount]);
        g.A.pop(eax);
        g.A.iretd();
        g.Gate(2, nmi);

        using var m = g.Build();
        for (int i = 0; i < 100 && Dword(m, Ready) == 0; i++)
            Assert.That(m.Run(10_000).Kind, Is.EqualTo(ExitKind.InstructionLimit));
        Assert.That(Dword(m, Ready), Is.EqualTo(1u));
        m.InjectNmi();
        var exit = m.Run(20_000_000);
        Assert.That(exit.ExitCode, Is.EqualTo((Done << 1) | 1), exit.Diagnostic);
        Assert.That(Dword(m, NmiCount), Is.EqualTo(1u), "the BSP took the NMI");
        Assert.That(Dword(m, NmiCount + 4), Is.Zero, "the AP's masked LINT1 dropped it");
    }
}
