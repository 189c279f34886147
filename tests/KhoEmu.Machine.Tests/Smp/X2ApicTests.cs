using Iced.Intel;
using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;
using static KhoEmu.Machine.Tests.Smp.SmpGuest;

namespace KhoEmu.Machine.Tests.Smp;

/// <summary>
/// x2APIC mode (SDM vol. 3, 11.12 / 12.12) from guest code: IA32_APIC_BASE's legal and illegal transitions, the MSR
/// interface 800H-8FFH (read-only, write-only and reserved registers raise #GP; the LDR derived from the x2APIC ID;
/// no DFR), the MMIO page gone in x2APIC mode, the INIT-SIPI protocol and IPIs with 32-bit destinations between two
/// processors in x2APIC mode, and SELF IPI. A #GP handler counts and skips the 2-byte RDMSR/WRMSR. Expected values
/// are the SDM's.
/// </summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class X2ApicTests
{
    private const uint GpCount = Results + 0x300, Steps = Results + 0x400, IpiCount = Results + 0x100, ApReady = Results + 0x10;
    private const uint ApicBaseMsr = 0x1B, En = 1 << 11, Extd = 1 << 10;
    private const int CountVector = 0x40;

    private static int ExitCode(byte code) => (code << 1) | 1;

    /// <summary>#GP: count, skip the faulting RDMSR/WRMSR (2 bytes), drop the error code, return.</summary>
    private static void GpHandler(SmpGuest g)
    {
        var gp = g.A.CreateLabel();
        g.A.Label(ref gp);
        g.A.inc(__dword_ptr[GpCount]);
        g.A.add(__dword_ptr[esp + 4], 2);
        g.A.add(esp, 4);
        g.A.iretd();
        g.Gate(13, gp);
    }

    private static void Wrmsr(SmpGuest g, uint msr, uint low, uint high = 0)
    {
        g.A.mov(ecx, msr);
        g.A.mov(eax, low);
        g.A.mov(edx, high);
        g.A.wrmsr();
    }

    /// <summary>RDMSR <paramref name="msr"/> with EAX/EDX preset to a marker (a #GP leaves them), stored at step
    /// <paramref name="step"/>: EAX, then the #GP count so far.</summary>
    private static void Rdmsr(SmpGuest g, uint msr, int step)
    {
        g.A.mov(ecx, msr);
        g.A.mov(eax, 0xDEAD_BEEF);
        g.A.mov(edx, 0xDEAD_BEEF);
        g.A.rdmsr();
        g.A.mov(__dword_ptr[Steps + step * 8], eax);
        Record(g, step);
    }

    private static void Record(SmpGuest g, int step)
    {
        g.A.mov(ebx, __dword_ptr[GpCount]);
        g.A.mov(__dword_ptr[Steps + step * 8 + 4], ebx);
    }

    private static (uint Value, uint Faults) Step(PcMachine m, int step) => (Dword(m, Steps + (ulong)step * 8), Dword(m, Steps + (ulong)step * 8 + 4));

    [Test]
    public void ModeTransitionsAndRegisterAccessFollowTheSdm()
    {
        var g = new SmpGuest();
        const uint Base = 0xFEE0_0000;
        Rdmsr(g, 0x802, 0);                           // xAPIC mode: the x2APIC MSRs raise #GP
        Wrmsr(g, ApicBaseMsr, Base | En | Extd);     // xAPIC → x2APIC: legal
        Record(g, 1);
        Rdmsr(g, ApicBaseMsr, 2);
        Rdmsr(g, 0x802, 3);                           // x2APIC ID
        Rdmsr(g, 0x803, 4);                           // version
        Rdmsr(g, 0x80D, 5);                           // LDR, derived from the ID
        Rdmsr(g, 0x80E, 6);                           // DFR: none in x2APIC mode
        Rdmsr(g, 0x80B, 7);                           // EOI: write-only
        Rdmsr(g, 0x83F, 8);                           // SELF IPI: write-only
        Rdmsr(g, 0x82F, 9);                           // CMCI: not implemented (max LVT entry 5)
        Rdmsr(g, 0x804, 10);                          // reserved
        Wrmsr(g, 0x802, 5); Record(g, 11);            // ID: read-only
        Wrmsr(g, 0x80D, 5); Record(g, 12);            // LDR: read-only
        Wrmsr(g, 0x80B, 1); Record(g, 13);            // EOI must be written with 0
        Wrmsr(g, 0x808, 0x20, 1); Record(g, 14);      // bits 63:32 of a 32-bit register
        Wrmsr(g, 0x808, 0x20); Rdmsr(g, 0x808, 15);   // TPR works
        g.A.mov(eax, __dword_ptr[Base + 0x30]);       // the MMIO page is gone: reads as unassigned space
        g.A.mov(__dword_ptr[Steps + 16 * 8], eax);
        Wrmsr(g, ApicBaseMsr, Base | En); Record(g, 17);          // x2APIC → xAPIC: #GP
        Wrmsr(g, ApicBaseMsr, Base | Extd); Record(g, 18);        // EXTD without EN: #GP
        Wrmsr(g, ApicBaseMsr, Base); Record(g, 19);               // x2APIC → disabled: legal
        Rdmsr(g, 0x808, 20);                                      // disabled: no x2APIC MSRs
        Wrmsr(g, ApicBaseMsr, Base | En | Extd); Record(g, 21);   // disabled → x2APIC: #GP
        Wrmsr(g, ApicBaseMsr, Base | En); Record(g, 22);          // disabled → xAPIC: legal
        g.A.mov(eax, __dword_ptr[Base + 0x80]);                   // TPR back at its power-up value
        g.A.mov(__dword_ptr[Steps + 23 * 8], eax);
        Rdmsr(g, ApicBaseMsr, 24);
        Wrmsr(g, ApicBaseMsr, Base | En | 1u << 9); Record(g, 25); // reserved bit 9
        g.A.mov(eax, 1);
        g.A.cpuid();
        g.A.mov(__dword_ptr[Steps + 26 * 8], ecx);
        g.Exit(Done);
        GpHandler(g);

        g.BeginAp();                                  // (the build wants the AP entry; one processor never runs it)
        g.A.hlt();
        using var m = g.Build(cpus: 1);
        var exit = m.Run(10_000_000);
        Assert.That(exit.ExitCode, Is.EqualTo(ExitCode(Done)), exit.Diagnostic);
        Assert.That(Step(m, 0), Is.EqualTo((0xDEAD_BEEFu, 1u)), "RDMSR 802H in xAPIC mode");
        Assert.That(Step(m, 1).Faults, Is.EqualTo(1u), "xAPIC → x2APIC is legal");
        Assert.That(Step(m, 2).Value, Is.EqualTo(Base | En | Extd | 0x100), "IA32_APIC_BASE: BSP, EN, EXTD");
        Assert.That(Step(m, 3), Is.EqualTo((0u, 1u)), "x2APIC ID 0");
        Assert.That(Step(m, 4), Is.EqualTo((0x0005_0014u, 1u)), "version");
        Assert.That(Step(m, 5), Is.EqualTo((1u, 1u)), "LDR: cluster 0, bit 0");
        Assert.That(Step(m, 6).Faults, Is.EqualTo(2u), "DFR");
        Assert.That(Step(m, 7).Faults, Is.EqualTo(3u), "EOI read");
        Assert.That(Step(m, 8).Faults, Is.EqualTo(4u), "SELF IPI read");
        Assert.That(Step(m, 9).Faults, Is.EqualTo(5u), "CMCI");
        Assert.That(Step(m, 10).Faults, Is.EqualTo(6u), "reserved 804H");
        Assert.That(Step(m, 11).Faults, Is.EqualTo(7u), "ID write");
        Assert.That(Step(m, 12).Faults, Is.EqualTo(8u), "LDR write");
        Assert.That(Step(m, 13).Faults, Is.EqualTo(9u), "non-zero EOI");
        Assert.That(Step(m, 14).Faults, Is.EqualTo(10u), "reserved high half");
        Assert.That(Step(m, 15), Is.EqualTo((0x20u, 10u)), "TPR");
        Assert.That(Step(m, 16).Value, Is.EqualTo(0xFFFF_FFFFu), "MMIO in x2APIC mode");
        Assert.That(Step(m, 17).Faults, Is.EqualTo(11u), "x2APIC → xAPIC");
        Assert.That(Step(m, 18).Faults, Is.EqualTo(12u), "EXTD without EN");
        Assert.That(Step(m, 19).Faults, Is.EqualTo(12u), "x2APIC → disabled");
        Assert.That(Step(m, 20).Faults, Is.EqualTo(13u), "x2APIC MSRs while disabled");
        Assert.That(Step(m, 21).Faults, Is.EqualTo(14u), "disabled → x2APIC");
        Assert.That(Step(m, 22).Faults, Is.EqualTo(14u), "disabled → xAPIC");
        Assert.That(Step(m, 23).Value, Is.Zero, "re-enabled APIC is in its power-up state");
        Assert.That(Step(m, 24).Value, Is.EqualTo(Base | En | 0x100), "back in xAPIC mode");
        Assert.That(Step(m, 25).Faults, Is.EqualTo(15u), "reserved bit");
        Assert.That(Step(m, 26).Value & (1u << 21), Is.Not.Zero, "CPUID.1:ECX.x2APIC on the default model (Denverton)");
    }

    [Test]
    public void IpisBetweenTwoProcessorsInX2ApicModeUse32BitDestinations()
    {
        var g = new SmpGuest();
        Wrmsr(g, ApicBaseMsr, 0xFEE0_0000 | En | Extd);
        Wrmsr(g, 0x80F, 0x1FF);
        // INIT, INIT de-assert, SIPI, SIPI to x2APIC ID 1 (ICR bits 63:32).
        Wrmsr(g, 0x830, 0xC500, 1);
        Wrmsr(g, 0x830, 0x8500, 1);
        Wrmsr(g, 0x830, 0x4600 | (Trampoline >> 12), 1);
        Wrmsr(g, 0x830, 0x4600 | (Trampoline >> 12), 1);
        g.WaitFor(ApReady, 1, 1);
        g.A.sti();
        Wrmsr(g, 0x830, CountVector, 1);                          // fixed, physical x2APIC ID 1
        g.WaitFor(IpiCount + 4, 1, 2);
        Wrmsr(g, 0x830, 0x800 | CountVector, 0x0000_0002);         // logical: cluster 0, member bit 1 = ID 1
        g.WaitFor(IpiCount + 4, 2, 3);
        Wrmsr(g, 0x830, 0x800 | CountVector, 0x0000_0003);         // logical: both
        g.WaitFor(IpiCount + 4, 3, 4);
        g.WaitFor(IpiCount, 1, 5);
        Wrmsr(g, 0x830, 0x800 | CountVector, 0x0001_0002);         // cluster 1: nobody
        Wrmsr(g, 0x830, CountVector, 0x0000_0100);                 // physical ID 256: nobody (not an xAPIC broadcast)
        Wrmsr(g, 0x830, CountVector, 0xFFFF_FFFF);                 // x2APIC broadcast
        g.WaitFor(IpiCount + 4, 4, 6);
        g.WaitFor(IpiCount, 2, 7);
        Wrmsr(g, 0x830, 0x400, 1);                                  // NMI to ID 1
        g.WaitFor(Results + 0x204, 1, 8);
        g.Exit(Done);

        var idle = g.A.CreateLabel();
        g.BeginAp();                                                 // (its xAPIC writes come before x2APIC mode)
        Wrmsr(g, ApicBaseMsr, 0xFEE0_0000 | En | Extd);
        Wrmsr(g, 0x80F, 0x1FF);
        g.A.mov(ecx, 0x802); g.A.rdmsr(); g.A.mov(__dword_ptr[Results + 0x20], eax);
        g.A.mov(ecx, 0x80D); g.A.rdmsr(); g.A.mov(__dword_ptr[Results + 0x24], eax);
        g.A.mov(eax, 0xB); g.A.xor(ecx, ecx); g.A.cpuid(); g.A.mov(__dword_ptr[Results + 0x28], edx);
        g.A.mov(__dword_ptr[ApReady], 1);
        g.A.Label(ref idle);
        g.A.sti();
        g.A.hlt();
        g.A.jmp(idle);

        var count = g.A.CreateLabel();
        g.A.Label(ref count);
        g.A.pushad();
        g.A.mov(ecx, 0x802); g.A.rdmsr();                            // this processor's x2APIC ID
        g.A.inc(__dword_ptr[eax * 4 + IpiCount]);
        g.A.mov(ecx, 0x80B); g.A.xor(eax, eax); g.A.xor(edx, edx); g.A.wrmsr(); // EOI
        g.A.popad();
        g.A.iretd();
        var nmi = g.A.CreateLabel();
        g.A.Label(ref nmi);
        g.A.pushad();
        g.A.mov(ecx, 0x802); g.A.rdmsr();
        g.A.inc(__dword_ptr[eax * 4 + Results + 0x200]);
        g.A.popad();
        g.A.iretd();
        g.Gate(CountVector, count);
        g.Gate(2, nmi);
        GpHandler(g);

        using var m = g.Build();
        var exit = m.Run(100_000_000);
        Assert.That(exit.ExitCode, Is.EqualTo(ExitCode(Done)), $"failed at step {exit.ExitCode >> 1}; {exit.Diagnostic}");
        Assert.That(Dword(m, GpCount), Is.Zero, "no #GP");
        Assert.That(Dword(m, Results + 0x20), Is.EqualTo(1u), "the AP's x2APIC ID");
        Assert.That(Dword(m, Results + 0x24), Is.EqualTo(2u), "the AP's LDR: cluster 0, bit 1");
        Assert.That(Dword(m, Results + 0x28), Is.EqualTo(1u), "CPUID.0BH:EDX, the x2APIC ID");
        Assert.That(Dword(m, IpiCount), Is.EqualTo(2u), "IPIs taken by the BSP (logical both, broadcast)");
        Assert.That(Dword(m, IpiCount + 4), Is.EqualTo(4u), "IPIs taken by the AP (physical, logical, both, broadcast)");
        Assert.That(Dword(m, Results + 0x204), Is.EqualTo(1u), "NMI on the AP");
        Assert.That(m.Apics[1].X2ApicMode, Is.True);
    }

    [Test]
    public void SelfIpiDeliversAFixedInterruptToThisProcessor()
    {
        var g = new SmpGuest();
        Wrmsr(g, ApicBaseMsr, 0xFEE0_0000 | En | Extd);
        Wrmsr(g, 0x80F, 0x1FF);
        g.A.sti();
        Wrmsr(g, 0x83F, CountVector);
        g.WaitFor(IpiCount, 1, 1);
        Wrmsr(g, 0x83F, 0x100 | CountVector);        // bits 31:8 reserved: #GP, nothing sent
        g.A.mov(ecx, 1000);
        var spin = g.A.CreateLabel();
        g.A.Label(ref spin);
        g.A.loop(spin);
        g.Exit(Done);
        var count = g.A.CreateLabel();
        g.A.Label(ref count);
        g.A.inc(__dword_ptr[IpiCount]);
        g.A.push(eax); g.A.push(ecx); g.A.push(edx);
        g.A.mov(ecx, 0x80B); g.A.xor(eax, eax); g.A.xor(edx, edx); g.A.wrmsr();
        g.A.pop(edx); g.A.pop(ecx); g.A.pop(eax);
        g.A.iretd();
        g.Gate(CountVector, count);
        GpHandler(g);

        g.BeginAp();                                  // (the build wants the AP entry; one processor never runs it)
        g.A.hlt();
        using var m = g.Build(cpus: 1);
        var exit = m.Run(10_000_000);
        Assert.That(exit.ExitCode, Is.EqualTo(ExitCode(Done)), $"failed at step {exit.ExitCode >> 1}; {exit.Diagnostic}");
        Assert.That(Dword(m, IpiCount), Is.EqualTo(1u));
        Assert.That(Dword(m, GpCount), Is.EqualTo(1u), "the reserved-bit SELF IPI write");
    }
}
