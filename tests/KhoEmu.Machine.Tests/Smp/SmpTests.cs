using Iced.Intel;
using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;
using static KhoEmu.Machine.Tests.Smp.SmpGuest;

namespace KhoEmu.Machine.Tests.Smp;

/// <summary>
/// Two processors running Iced-assembled programs: the MP start-up protocol (INIT-SIPI-SIPI), IPIs of every kind and
/// destination, HLT woken by an IPI, TLB shootdown, cross-modifying code, atomicity and determinism of the
/// round-robin interleaving (docs/cpu.md, "SMP"). Expected values come from the SDM, not from running the emulator.
/// </summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class SmpTests
{
    private const uint ApReady = Results + 0x10, IpiCount = Results + 0x100, NmiCount = Results + 0x200;
    private const int CountVector = 0x40, PingVector = 0x41;

    private static int ExitCode(byte code) => (code << 1) | 1;

    [Test]
    public void InitSipiSipiStartsTheApInRealModeAtTheVectorPage()
    {
        var g = new SmpGuest();
        g.StartAp(1);
        g.WaitFor(ApReady, 1, 1);
        g.Exit(Done);
        g.BeginAp();
        // CPUID.1:EBX[31:24] is the initial APIC ID; the APIC ID register agrees; IA32_APIC_BASE.BSP is clear.
        g.A.mov(eax, 1);
        g.A.cpuid();
        g.A.mov(__dword_ptr[Results + 0x20], ebx);
        g.ApicIdToEax();
        g.A.mov(__dword_ptr[Results + 0x24], eax);
        g.A.mov(ecx, 0x1B);
        g.A.rdmsr();
        g.A.mov(__dword_ptr[Results + 0x28], eax);
        g.A.mov(eax, 0xB);                                     // x2APIC topology, core level
        g.A.mov(ecx, 1);
        g.A.cpuid();
        g.A.mov(__dword_ptr[Results + 0x34], eax);
        g.A.mov(__dword_ptr[Results + 0x38], ebx);
        g.A.mov(__dword_ptr[Results + 0x3C], edx);
        g.A.mov(__dword_ptr[ApReady], 1);
        g.A.cli();
        g.A.hlt();

        // The trampoline itself records CS (vector << 8) before leaving real mode.
        using var m = g.Build(prepare: pm =>
        {
            var t = new Assembler(16);
            t.mov(ax, cs);
            t.mov(__word_ptr[RealModeResult], ax);
            var head = AssembleAt(t, 0);
            var rest = new byte[64];
            pm.Memory.Read(Trampoline, rest);
            pm.Memory.Write(Trampoline, [.. head, .. rest]);
        });
        Assert.That(m.Cpus[1].WaitingForSipi, Is.True, "an AP waits for a SIPI after power-on");
        Assert.That(m.Cpus[0].WaitingForSipi, Is.False);
        var exit = m.Run(50_000_000);

        Assert.That(exit.ExitCode, Is.EqualTo(ExitCode(Done)), exit.Diagnostic);
        Assert.That(Dword(m, RealModeResult) & 0xFFFF, Is.EqualTo(Trampoline >> 4), "CS = vector << 8");
        Assert.That(Dword(m, Results + 0x20) >> 24, Is.EqualTo(1u), "CPUID.1:EBX initial APIC ID");
        Assert.That(Dword(m, Results + 0x20) >> 16 & 0xFF, Is.EqualTo(2u), "two logical processors per package");
        Assert.That(Dword(m, Results + 0x24), Is.EqualTo(1u), "APIC ID register of the AP's own APIC");
        Assert.That(Dword(m, Results + 0x28), Is.EqualTo(0xFEE0_0800u), "IA32_APIC_BASE: enabled, BSP flag clear");
        Assert.That(Dword(m, Results + 0x34), Is.EqualTo(1u), "CPUID.0BH.1: APIC ID shift to the package");
        Assert.That(Dword(m, Results + 0x38), Is.EqualTo(2u), "CPUID.0BH.1: two logical processors at the core level");
        Assert.That(Dword(m, Results + 0x3C), Is.EqualTo(1u), "CPUID.0BH: x2APIC ID");
        Assert.That(m.Cpus[1].Halted, Is.True);
        Assert.That(m.Cpus[1].InstructionCount, Is.GreaterThan(10UL));
    }

    [Test]
    public void ApThatGetsNoSipiNeverRuns()
    {
        var g = new SmpGuest();
        g.SendIpi(1, 0x0000_C500);                 // INIT only
        g.WaitFor(ApReady, 1, 1);
        g.Exit(Done);
        g.BeginAp();
        g.A.mov(__dword_ptr[ApReady], 1);
        g.A.hlt();
        using var m = g.Build();
        var exit = m.Run(50_000_000);
        Assert.That(exit.ExitCode, Is.EqualTo(ExitCode(1)), "the BSP's wait timed out");
        Assert.That(m.Cpus[1].InstructionCount, Is.Zero);
        Assert.That(m.Cpus[1].WaitingForSipi, Is.True);
    }

    /// <summary>The AP program for the IPI tests: handlers count per APIC ID; the AP then idles in STI; HLT.</summary>
    private static void IpiHandlers(SmpGuest g)
    {
        var count = g.A.CreateLabel();
        var nmi = g.A.CreateLabel();
        var ping = g.A.CreateLabel();
        var idle = g.A.CreateLabel();
        g.BeginAp();
        g.A.mov(__dword_ptr[ApReady], 1);
        g.A.Label(ref idle);
        g.A.sti();
        g.A.hlt();
        g.A.inc(__dword_ptr[Results + 0x40]);           // wake-ups from HLT
        g.A.jmp(idle);

        g.A.Label(ref count);
        g.A.push(eax);
        g.ApicIdToEax();
        g.A.inc(__dword_ptr[eax * 4 + IpiCount]);
        g.Eoi();
        g.A.pop(eax);
        g.A.iretd();

        g.A.Label(ref nmi);
        g.A.push(eax);
        g.ApicIdToEax();
        g.A.inc(__dword_ptr[eax * 4 + NmiCount]);
        g.A.pop(eax);
        g.A.iretd();

        // Ping: answer with a fixed IPI to APIC ID 0 (physical destination).
        g.A.Label(ref ping);
        g.SendIpi(0, CountVector);
        g.Eoi();
        g.A.iretd();

        g.Gate(CountVector, count);
        g.Gate(2, nmi);
        g.Gate(PingVector, ping);
    }

    [Test]
    public void IpisReachTheProcessorsTheirDestinationAndShorthandName()
    {
        var g = new SmpGuest();
        g.A.mov(__dword_ptr[ApicBase + 0xE0], 0xFFFF_FFFF);  // flat model
        g.A.mov(__dword_ptr[ApicBase + 0xD0], 0x0100_0000);  // logical ID bit 0
        g.StartAp(1);
        g.WaitFor(ApReady, 1, 1);
        g.A.sti();
        g.SendIpi(1, CountVector);                            // fixed, physical APIC ID 1
        g.WaitFor(IpiCount + 4, 1, 2);
        g.SendIpi(1, PingVector);                             // the AP answers with a fixed IPI to APIC ID 0
        g.WaitFor(IpiCount, 1, 3);
        g.SendIpi(1, 0x400 | 2);                              // NMI (vector field ignored)
        g.WaitFor(NmiCount + 4, 1, 4);
        g.SendIpi(0x02, 0x800 | CountVector);                 // logical destination 0x02: the AP only
        g.WaitFor(IpiCount + 4, 2, 5);
        g.SendIpi(0x03, 0x800 | CountVector);                 // logical 0x03: both
        g.WaitFor(IpiCount + 4, 3, 6);
        g.WaitFor(IpiCount, 2, 7);
        g.SendIpi(0, 0xC_0000 | CountVector);                 // all excluding self
        g.WaitFor(IpiCount + 4, 4, 8);
        g.SendIpi(0, 0x4_0000 | CountVector);                 // self
        g.WaitFor(IpiCount, 3, 9);
        g.SendIpi(0, 0x8_0000 | CountVector);                 // all including self
        g.WaitFor(IpiCount + 4, 5, 10);
        g.WaitFor(IpiCount, 4, 11);
        g.SendIpi(0, 0x4_0000 | 0x400);                       // self NMI
        g.WaitFor(NmiCount, 1, 12);
        g.SendIpi(0xFF, CountVector);                         // physical broadcast
        g.WaitFor(IpiCount + 4, 6, 13);
        g.WaitFor(IpiCount, 5, 14);
        g.Exit(Done);
        IpiHandlers(g);

        using var m = g.Build();
        var exit = m.Run(100_000_000);
        Assert.That(exit.ExitCode, Is.EqualTo(ExitCode(Done)), $"failed at step {exit.ExitCode >> 1}; {exit.Diagnostic}");
        Assert.That(Dword(m, IpiCount), Is.EqualTo(5u), "IPIs taken by the BSP");
        Assert.That(Dword(m, IpiCount + 4), Is.EqualTo(6u), "IPIs taken by the AP");
        Assert.That(Dword(m, NmiCount + 4), Is.EqualTo(1u), "NMIs taken by the AP");
        Assert.That(Dword(m, Results + 0x40), Is.GreaterThan(0u), "an IPI ends the AP's HLT");
        Assert.That(m.ApicBus.IpisSent, Is.GreaterThanOrEqualTo(14));
    }

    [Test]
    public void TlbShootdownByIpiMakesTheOtherProcessorSeeTheNewMapping()
    {
        // 32-bit paging with 4 MiB pages (CR4.PSE): identity for the first 4 MiB and the APIC range, and linear
        // 0x400000 mapped to physical 0x800000 (frame A) and later to 0xC00000 (frame B). Each CPU has its own TLB:
        // after the BSP rewrites the PDE and invalidates only locally, the AP still translates through its cached
        // entry until the shootdown IPI makes it INVLPG (SDM vol. 3, 4.10.5).
        const uint pageDirectory = 0x6_0000, window = 0x40_0000, frameA = 0x80_0000, frameB = 0xC0_0000;
        const int readVector = 0x43, shootdownVector = 0x42;
        var g = new SmpGuest();
        EnablePaging(g, pageDirectory);
        g.StartAp(1);
        g.WaitFor(ApReady, 1, 1);
        g.A.mov(eax, __dword_ptr[window]);
        g.A.mov(__dword_ptr[Results + 0x60], eax);            // BSP before: A
        g.A.mov(__dword_ptr[pageDirectory + 4], frameB | 0x83);
        g.A.invlpg(__byte_ptr[window]);
        g.A.mov(eax, __dword_ptr[window]);
        g.A.mov(__dword_ptr[Results + 0x64], eax);            // BSP after its INVLPG: B
        g.SendIpi(1, readVector);
        g.WaitFor(Results + 0x80, 1, 2);
        g.SendIpi(1, shootdownVector);
        g.WaitFor(Results + 0x80, 2, 3);
        g.Exit(Done);

        var read = g.A.CreateLabel();
        var shootdown = g.A.CreateLabel();
        var idle = g.A.CreateLabel();
        g.BeginAp();
        EnablePaging(g, pageDirectory);
        g.A.mov(eax, __dword_ptr[window]);
        g.A.mov(__dword_ptr[Results + 0x68], eax);            // AP first read fills its TLB: A
        g.A.mov(__dword_ptr[ApReady], 1);
        g.A.Label(ref idle);
        g.A.sti();
        g.A.hlt();
        g.A.jmp(idle);
        g.A.Label(ref read);
        g.A.mov(eax, __dword_ptr[window]);
        g.A.mov(__dword_ptr[Results + 0x6C], eax);            // AP before the shootdown: still A
        g.A.inc(__dword_ptr[Results + 0x80]);
        g.Eoi();
        g.A.iretd();
        g.A.Label(ref shootdown);
        g.A.invlpg(__byte_ptr[window]);
        g.A.mov(eax, __dword_ptr[window]);
        g.A.mov(__dword_ptr[Results + 0x70], eax);            // AP after its INVLPG: B
        g.A.inc(__dword_ptr[Results + 0x80]);
        g.Eoi();
        g.A.iretd();
        g.Gate(readVector, read);
        g.Gate(shootdownVector, shootdown);

        using var m = g.Build(prepare: pm =>
        {
            pm.Memory.Write(pageDirectory, BitConverter.GetBytes(0x83u));                       // 0-4 MiB identity
            pm.Memory.Write(pageDirectory + 4, BitConverter.GetBytes(frameA | 0x83));
            pm.Memory.Write(pageDirectory + 0x3FB * 4, BitConverter.GetBytes(0xFEC0_0083u));    // I/O and local APIC
            pm.Memory.Write(frameA, BitConverter.GetBytes(0xAAAA_AAAAu));
            pm.Memory.Write(frameB, BitConverter.GetBytes(0xBBBB_BBBBu));
        });
        var exit = m.Run(100_000_000);
        Assert.That(exit.ExitCode, Is.EqualTo(ExitCode(Done)), $"failed at step {exit.ExitCode >> 1}; {exit.Diagnostic}");
        Assert.That(Dword(m, Results + 0x60), Is.EqualTo(0xAAAA_AAAAu), "BSP before");
        Assert.That(Dword(m, Results + 0x64), Is.EqualTo(0xBBBB_BBBBu), "BSP after its own INVLPG");
        Assert.That(Dword(m, Results + 0x68), Is.EqualTo(0xAAAA_AAAAu), "AP before");
        Assert.That(Dword(m, Results + 0x6C), Is.EqualTo(0xAAAA_AAAAu), "AP's TLB is its own: the BSP's INVLPG did not reach it");
        Assert.That(Dword(m, Results + 0x70), Is.EqualTo(0xBBBB_BBBBu), "AP after the shootdown");
    }

    private static void EnablePaging(SmpGuest g, uint pageDirectory)
    {
        g.A.mov(eax, pageDirectory);
        g.A.mov(cr3, eax);
        g.A.mov(eax, cr4);
        g.A.or(eax, 0x10);                                    // CR4.PSE
        g.A.mov(cr4, eax);
        g.A.mov(eax, cr0);
        g.A.or(eax, 0x8000_0000);
        g.A.mov(cr0, eax);
    }

    [Test]
    public void CodeWrittenByOneProcessorIsSeenByTheOtherThatDecodedIt()
    {
        // A function at 0x70000 stores an immediate; the AP calls it on every IPI. The BSP first writes data into the
        // same page (so it holds a fast write translation for it), the AP runs the function once (decoding the
        // page), then the BSP patches the immediate and the AP must run the new code.
        const uint function = 0x7_0000, output = Results + 0x90;
        const int callVector = 0x44;
        var g = new SmpGuest();
        g.A.mov(__dword_ptr[function + 0x800], 0x1234);      // data write into the code page, before any decode
        g.StartAp(1);
        g.WaitFor(ApReady, 1, 1);
        g.SendIpi(1, callVector);
        g.WaitFor(Results + 0x94, 1, 2);
        g.A.mov(__dword_ptr[function + 6], 0x2222_2222);      // the immediate of "mov dword [output], imm32"
        g.SendIpi(1, callVector);
        g.WaitFor(Results + 0x94, 2, 3);
        g.Exit(Done);

        var call = g.A.CreateLabel();
        var idle = g.A.CreateLabel();
        g.BeginAp();
        g.A.mov(__dword_ptr[ApReady], 1);
        g.A.Label(ref idle);
        g.A.sti();
        g.A.hlt();
        g.A.jmp(idle);
        g.A.Label(ref call);
        g.A.mov(eax, function);
        g.A.call(eax);
        g.A.mov(eax, __dword_ptr[output]);
        g.A.mov(ecx, __dword_ptr[Results + 0x94]);
        g.A.mov(__dword_ptr[ecx * 4 + (Results + 0x98)], eax);   // the value of each call, in order
        g.A.inc(__dword_ptr[Results + 0x94]);
        g.Eoi();
        g.A.iretd();
        g.Gate(callVector, call);

        var f = new Assembler(32);
        f.mov(__dword_ptr[output], 0x1111_1111);
        f.ret();
        var code = AssembleAt(f, function);
        Assert.That(BitConverter.ToUInt32(code, 6), Is.EqualTo(0x1111_1111u), "the immediate's offset in the encoding");

        using var m = g.Build(prepare: pm => pm.Memory.Write(function, code));
        var exit = m.Run(100_000_000);
        Assert.That(exit.ExitCode, Is.EqualTo(ExitCode(Done)), $"failed at step {exit.ExitCode >> 1}; {exit.Diagnostic}");
        Assert.That(Dword(m, Results + 0x98), Is.EqualTo(0x1111_1111u), "the first call ran the original instruction");
        Assert.That(Dword(m, Results + 0x9C), Is.EqualTo(0x2222_2222u), "the second call ran the patched instruction");
        Assert.That(m.Cpus[1].CodeInvalidations, Is.GreaterThan(0), "the AP dropped its decoded block");
    }

    /// <summary>
    /// Both processors add 1 to a counter <paramref name="iterations"/> times through a load / add / store sequence
    /// of three instructions, inside a spinlock taken with LOCK CMPXCHG when <paramref name="locked"/>.
    /// </summary>
    internal static SmpGuest CounterRace(int iterations, bool locked)
    {
        const uint counter = Results + 0xC0, lockWord = Results + 0xC4, apDone = Results + 0xC8;
        var g = new SmpGuest();
        g.StartAp(1);
        g.WaitFor(ApReady, 1, 1);
        Increment(g, iterations, locked, counter, lockWord);
        g.WaitFor(apDone, 1, 2);
        g.Exit(Done);
        g.BeginAp();
        g.A.mov(__dword_ptr[ApReady], 1);
        Increment(g, iterations, locked, counter, lockWord);
        g.A.mov(__dword_ptr[apDone], 1);
        g.A.cli();
        g.A.hlt();
        return g;
    }

    private static void Increment(SmpGuest g, int iterations, bool locked, uint counter, uint lockWord)
    {
        var loop = g.A.CreateLabel();
        g.A.mov(esi, iterations);
        g.A.Label(ref loop);
        if (locked)
        {
            g.A.xor(eax, eax);
            g.A.mov(edx, 1);
            g.A.@lock.cmpxchg(__dword_ptr[lockWord], edx);
            g.A.jnz(loop);   // taken: spin until the other processor releases the lock
        }
        g.A.mov(ebx, __dword_ptr[counter]);
        g.A.nop();   // the loop's length does not divide the quantum, so the quantum ends at every point of it
        g.A.add(ebx, 1);
        g.A.mov(__dword_ptr[counter], ebx);
        if (locked) g.A.mov(__dword_ptr[lockWord], 0);
        g.A.dec(esi);
        g.A.jnz(loop);
    }

    [Test]
    public void LockedCompareExchangeMakesTheCriticalSectionAtomicAcrossProcessors()
    {
        const int n = 20_000;
        using var locked = CounterRace(n, locked: true).Build();
        var exit = locked.Run(200_000_000);
        Assert.That(exit.ExitCode, Is.EqualTo(ExitCode(Done)), exit.Diagnostic);
        Assert.That(Dword(locked, Results + 0xC0), Is.EqualTo(2u * n), "no increment lost under the lock");

        // Control: without the lock the quanta interleave inside the three-instruction sequence and updates are lost,
        // so the interleaving really is at instruction granularity.
        using var racy = CounterRace(n, locked: false).Build();
        exit = racy.Run(200_000_000);
        Assert.That(exit.ExitCode, Is.EqualTo(ExitCode(Done)), exit.Diagnostic);
        Assert.That(Dword(racy, Results + 0xC0), Is.LessThan(2u * n));
    }

    [Test]
    public void TwoRunsOfTheSameSmpGuestRetireTheSameInstructionsAtTheSameVirtualTime()
    {
        (ulong, ulong, ulong, uint) Once()
        {
            using var m = CounterRace(5_000, locked: true).Build();
            var exit = m.Run(200_000_000);
            Assert.That(exit.ExitCode, Is.EqualTo(ExitCode(Done)), exit.Diagnostic);
            return (m.Cpus[0].InstructionCount, m.Cpus[1].InstructionCount, m.Clock.Now, Dword(m, Results + 0xC0));
        }
        var first = Once();
        Assert.That(Once(), Is.EqualTo(first));
    }

    [Test]
    public void EightProcessorsAllStartAndReportTheirApicIds()
    {
        // The BSP starts every AP with one broadcast INIT-SIPI-SIPI (all excluding self); each AP records its
        // CPUID initial APIC ID in its own slot and bumps a LOCK'd counter.
        var g = new SmpGuest();
        g.A.mov(__dword_ptr[ApicBase + 0x300], 0x000C_C500);            // INIT, all excluding self
        g.A.mov(__dword_ptr[ApicBase + 0x300], 0x000C_4600 | (Trampoline >> 12));
        g.A.mov(__dword_ptr[ApicBase + 0x300], 0x000C_4600 | (Trampoline >> 12));
        g.WaitFor(ApReady, 7, 1);
        g.Exit(Done);
        g.BeginAp();
        g.A.mov(eax, 1);
        g.A.cpuid();
        g.A.shr(ebx, 24);
        g.A.mov(__dword_ptr[ebx * 4 + (Results + 0x100)], ebx);
        g.A.@lock.inc(__dword_ptr[ApReady]);
        g.A.cli();
        g.A.hlt();
        using var m = g.Build(cpus: 8);
        var exit = m.Run(100_000_000);
        Assert.That(exit.ExitCode, Is.EqualTo(ExitCode(Done)), exit.Diagnostic);
        for (uint id = 1; id < 8; id++) Assert.That(Dword(m, Results + 0x100 + id * 4), Is.EqualTo(id));
        Assert.That(m.Cpus.Select(c => c.InitialApicId), Is.EqualTo(Enumerable.Range(0, 8)));
    }
}
