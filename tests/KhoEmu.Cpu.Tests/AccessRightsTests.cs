using KhoEmu.Cpu.State;
using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Cpu.Tests;

/// <summary>
/// SMEP, SMAP and protection keys (Intel SDM vol. 3, 4.6) on the max model, at CPL 0. The rig's identity map is
/// rebuilt with supervisor 2 MiB pages except <see cref="User"/> (U/S = 1, protection key 5); <see cref="Super"/> is a
/// supervisor page with key 3.
/// </summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class AccessRightsTests
{
    private const ulong User = 0x140_0000, Super = 0x160_0000;
    private const ulong Pd = 0x10_2000;
    private const int PfP = 1, PfW = 2, PfId = 0x10, PfPk = 0x20;

    private static FaultProbe Probe()
    {
        var p = new FaultProbe(CpuModels.Max);
        p.Rig.W64(0x10_0000, 0x10_1000 | 7); // PML4E and PDPTE user-accessible: U/S is decided by the PDEs
        p.Rig.W64(0x10_1000, Pd | 7);
        for (ulong i = 0; i < 512; i++) p.Rig.W64(Pd + i * 8, (i << 21) | 0x83);
        p.Rig.W64(Pd + (User >> 21) * 8, User | 0x87 | (5UL << 59));
        p.Rig.W64(Pd + (Super >> 21) * 8, Super | 0x83 | (3UL << 59));
        p.Rig.Load(a => { a.mov(eax, 0x5A); a.@out(FaultProbe.StopPort, al); }, User + 0x100);
        p.SetCr4(0); // flushes the TLB after the page-table rewrite
        return p;
    }

    private static void SetCr0Wp(FaultProbe p) =>
        p.Cpu.SetControlRegisters(p.Cpu.Cr0Value | ControlBits.Cr0WP, p.Cpu.Cr3Value, p.Cpu.Cr4Value, p.Cpu.EferValue);

    [Test]
    public void SmapBlocksSupervisorDataAccessToUserPagesUnlessAcIsSet()
    {
        using var p = Probe();
        Assert.That(p.Run(a => a.mov(rax, __qword_ptr[User])), Is.EqualTo(FaultProbe.None), "SMAP off: allowed");
        p.SetCr4(ControlBits.Cr4SMAP);
        Assert.That(p.Run(a => a.mov(rax, __qword_ptr[User])), Is.EqualTo(Vector.PF));
        Assert.That(p.Error, Is.EqualTo((ulong)PfP), "present, read, supervisor");
        Assert.That(p.Cpu.Cr2Value, Is.EqualTo(User));
        Assert.That(p.Run(a => { a.stac(); a.mov(rax, __qword_ptr[User]); a.mov(__qword_ptr[User + 8], rax); }), Is.EqualTo(FaultProbe.None), "AC = 1: allowed");
        // The translation just used must not be served from the TLB once AC is clear again.
        Assert.That(p.Run(a => { a.clac(); a.mov(__qword_ptr[User + 8], rax); }), Is.EqualTo(Vector.PF));
        Assert.That(p.Error, Is.EqualTo((ulong)(PfP | PfW)));
        Assert.That(p.Run(a => a.mov(rax, __qword_ptr[Super])), Is.EqualTo(FaultProbe.None), "supervisor pages are not affected");
        Assert.That(p.Run(a => { a.mov(rax, User + 0x100); a.jmp(rax); }), Is.EqualTo(FaultProbe.None), "fetches are SMEP's business");
        Assert.That(p.Cpu.GetGpr(Cpu.RAX), Is.EqualTo(0x5AUL));
    }

    [Test]
    public void SmapTreatsImplicitAccessesAsAcClear()
    {
        using var p = Probe();
        p.SetCr4(ControlBits.Cr4SMAP);
        // An LDT in a user page (the GDT stays in supervisor memory so that exception delivery can read it): loading
        // DS with an LDT selector reads the descriptor implicitly, which SMAP forbids even with AC = 1.
        p.Rig.W64(0x500 + 0x20, 0x0000_8200_0000_000F | ((User & 0xFF_FFFF) << 16) | ((User >> 24 & 0xFF) << 56));
        p.Rig.W64(0x500 + 0x28, User >> 32);
        p.Rig.W64(User + 8, 0x00CF_9300_0000_FFFF);
        p.Rig.W64(TestRig.DataBase, (0x500UL << 16) | 0x2F);
        p.Rig.W64(TestRig.DataBase + 8, 0);
        Assert.That(p.Run(a =>
        {
            a.lgdt(__[TestRig.DataBase]); a.mov(eax, 0x20); a.lldt(ax);
            a.stac(); a.mov(eax, 0x0C); a.mov(ds, eax);
        }), Is.EqualTo(Vector.PF));
        Assert.That(p.Error, Is.EqualTo((ulong)PfP));
        Assert.That(p.Cpu.Cr2Value, Is.EqualTo(User + 8));
    }

    [Test]
    public void SmepBlocksSupervisorFetchesFromUserPages()
    {
        using var p = Probe();
        p.SetCr4(ControlBits.Cr4SMEP);
        Assert.That(p.Run(a => { a.mov(rax, User + 0x100); a.jmp(rax); }), Is.EqualTo(Vector.PF));
        Assert.That(p.Error, Is.EqualTo((ulong)(PfP | PfId)), "instruction fetch, supervisor");
        Assert.That(p.Cpu.Cr2Value, Is.EqualTo(User + 0x100));
        Assert.That(p.Run(a => a.mov(rax, __qword_ptr[User])), Is.EqualTo(FaultProbe.None), "data accesses are SMAP's business");
    }

    [Test]
    public void PkruGovernsDataAccessesToUserPages()
    {
        using var p = Probe();
        p.SetCr4(ControlBits.Cr4PKE);
        int Pkru(uint v, Action<Iced.Intel.Assembler> then) =>
            p.Run(a => { a.xor(ecx, ecx); a.xor(edx, edx); a.mov(eax, v); a.wrpkru(); then(a); });
        Assert.That(Pkru(0, a => a.mov(rax, __qword_ptr[User])), Is.EqualTo(FaultProbe.None), "fills the TLB");
        Assert.That(Pkru(1u << 10, a => a.mov(rax, __qword_ptr[User])), Is.EqualTo(Vector.PF), "AD for key 5 (WRPKRU drops the cached rights)");
        Assert.That(p.Error, Is.EqualTo((ulong)(PfP | PfPk)));
        Assert.That(Pkru(1u << 10, a => { a.mov(rax, User + 0x100); a.jmp(rax); }), Is.EqualTo(FaultProbe.None), "instruction fetches ignore keys");
        Assert.That(Pkru(1u << 11, a => { a.mov(rax, __qword_ptr[User]); a.mov(__qword_ptr[User], rax); }), Is.EqualTo(FaultProbe.None),
            "WD with CR0.WP = 0: supervisor writes allowed");
        SetCr0Wp(p);
        Assert.That(Pkru(1u << 11, a => a.mov(__qword_ptr[User], rax)), Is.EqualTo(Vector.PF), "WD with CR0.WP = 1");
        Assert.That(p.Error, Is.EqualTo((ulong)(PfP | PfW | PfPk)));
        Assert.That(Pkru(0xFFFF_FFFC, a => a.mov(rax, __qword_ptr[Super])), Is.EqualTo(FaultProbe.None), "PKRU does not apply to supervisor pages");
    }

    [Test]
    public void PkrsGovernsDataAccessesToSupervisorPages()
    {
        using var p = Probe();
        p.SetCr4(ControlBits.Cr4PKS);
        int Pkrs(ulong v, Action<Iced.Intel.Assembler> then) =>
            p.Run(a => { a.mov(ecx, Cpu.PkrsMsr); a.mov(eax, (uint)v); a.mov(edx, (uint)(v >> 32)); a.wrmsr(); then(a); });
        Assert.That(Pkrs(1UL << 6, a => a.mov(rax, __qword_ptr[Super])), Is.EqualTo(Vector.PF), "AD for key 3");
        Assert.That(p.Error, Is.EqualTo((ulong)(PfP | PfPk)));
        Assert.That(Pkrs(1UL << 6, a => a.mov(rax, __qword_ptr[User])), Is.EqualTo(FaultProbe.None), "user pages are PKRU's");
        SetCr0Wp(p);
        Assert.That(Pkrs(1UL << 7, a => { a.mov(rax, __qword_ptr[Super]); a.mov(__qword_ptr[Super], rax); }), Is.EqualTo(Vector.PF), "WD with CR0.WP = 1");
        Assert.That(p.Error, Is.EqualTo((ulong)(PfP | PfW | PfPk)));
        Assert.That(Pkrs(1UL << 32, _ => { }), Is.EqualTo(Vector.GP), "IA32_PKRS bits 63:32 are reserved");
        Assert.That(p.Run(a => { a.mov(ecx, Cpu.PkrsMsr); a.rdmsr(); }), Is.EqualTo(FaultProbe.None));
        Assert.That(p.Cpu.GetGpr(Cpu.RAX), Is.EqualTo(1UL << 7));
    }

    [Test]
    public void RdpidAndRdtscpReadThePinnedTscAux()
    {
        using var p = new FaultProbe(CpuModels.Max);
        Assert.That(p.Run(a =>
        {
            a.mov(ecx, Msr.TscAux); a.mov(eax, 0x1234_5678); a.xor(edx, edx); a.wrmsr();
            a.mov(rbx, -1L); a.rdpid(rbx);
            a.rdtsc(); a.mov(r8d, eax); a.mov(r9d, edx);
            a.rdtscp(); a.mov(r10d, eax); a.mov(r11d, edx);
        }), Is.EqualTo(FaultProbe.None));
        var c = p.Cpu;
        Assert.That(c.GetGpr(Cpu.RBX), Is.EqualTo(0x1234_5678UL), "RDPID zero-extends TSC_AUX");
        Assert.That(c.GetGpr(Cpu.RCX), Is.EqualTo(0x1234_5678UL), "RDTSCP: ECX = TSC_AUX");
        ulong t1 = c.GetGpr(8) | c.GetGpr(9) << 32, t2 = c.GetGpr(10) | c.GetGpr(11) << 32;
        Assert.That(t2, Is.GreaterThanOrEqualTo(t1), "the same virtual clock");
    }
}
