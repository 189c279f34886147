using KhoEmu.Cpu.State;
using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Cpu.Tests;

/// <summary>
/// Paging-structure entries with reserved bits set raise #PF with P = 1 and RSVD (error-code bit 3), SDM vol. 3,
/// 4.7 and 4.5 (tables 4-15 to 4-20): bits above MAXPHYADDR (40 here), XD while EFER.NXE = 0, PS in a PML4E, the
/// reserved bits of 2 MiB and 1 GiB page entries, and PS in a PDPTE without 1 GiB-page support.
/// </summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class PagingReservedBitTests
{
    private const ulong Pml4 = 0x10_0000, Pdpt = 0x10_1000, Pd = 0x10_2000, Pt = 0x10_3000;
    private const ulong Handler = TestRig.CodeBase + 0x800;
    /// <summary>Data in the 2 MiB page PD[5] (the rig's stack shares PD[3] with its data buffer).</summary>
    private const ulong Data = 0xA0_0000;

    /// <summary>Runs a read (or write) of <paramref name="address"/>; returns (#PF taken, error code, CR2).</summary>
    private static (bool Faulted, ulong Error, ulong Cr2) Access(TestRig rig, ulong address, bool write = false)
    {
        rig.SetGate(Vector.PF, Handler);
        rig.Load(a => { a.pop(rbx); a.mov(rax, cr2); a.mov(r15, 14); a.hlt(); }, Handler);
        rig.Load(a =>
        {
            a.mov(rsi, address);
            if (write) a.mov(__qword_ptr[rsi], rdi); else a.mov(rdi, __qword_ptr[rsi]);
            a.mov(r14, 1);
            a.hlt();
        });
        rig.Cpu.Run(20);
        var c = rig.Cpu;
        return (c.GetGpr(15) == 14, c.GetGpr(Cpu.RBX), c.GetGpr(Cpu.RAX));
    }

    private static void ClearNxe(TestRig rig)
    {
        var c = rig.Cpu;
        c.SetControlRegisters(c.Cr0Value, c.Cr3Value, c.Cr4Value, c.EferValue & ~Msr.EferNxe);
    }

    [Test]
    public void ValidEntriesDoNotFault()
    {
        using var rig = new TestRig();
        Assert.That(Access(rig, Data).Faulted, Is.False, rig.Cpu.Diagnostic);
    }

    [TestCase(false, TestName = "XD in a 2 MiB PDE with EFER.NXE = 0: #PF(RSVD), read")]
    [TestCase(true, TestName = "XD in a 2 MiB PDE with EFER.NXE = 0: #PF(RSVD), write")]
    public void ExecuteDisableWithoutNxeIsReserved(bool write)
    {
        using var rig = new TestRig();
        ClearNxe(rig);
        rig.W64(Pd + 5 * 8, rig.R64(Pd + 5 * 8) | 1UL << 63);
        var r = Access(rig, Data + 0x10, write);
        Assert.That(r.Faulted, Is.True, rig.Cpu.Diagnostic);
        Assert.That(r.Error, Is.EqualTo(write ? 0xBUL : 0x9UL), "P | RSVD (| W)");
        Assert.That(r.Cr2, Is.EqualTo(Data + 0x10));
    }

    [Test]
    public void ExecuteDisableWithNxeIsNotReservedForData()
    {
        using var rig = new TestRig();
        rig.W64(Pd + 5 * 8, rig.R64(Pd + 5 * 8) | 1UL << 63);
        Assert.That(Access(rig, Data).Faulted, Is.False);
    }

    [Test]
    public void ExecuteDisableInAPteWithoutNxeIsReserved()
    {
        using var rig = new TestRig();
        ClearNxe(rig);
        rig.W64(Pd + 4 * 8, Pt | 7);
        rig.W64(Pt, 0x80_0000 | 3 | 1UL << 63);
        var r = Access(rig, 0x80_0008);
        Assert.That((r.Faulted, r.Error), Is.EqualTo((true, 0x9UL)), rig.Cpu.Diagnostic);
    }

    [TestCase(40)]
    [TestCase(45)]
    [TestCase(51)]
    public void AddressBitsAboveMaxPhyAddrAreReserved(int bit)
    {
        using var rig = new TestRig();
        rig.W64(Pd + 5 * 8, rig.R64(Pd + 5 * 8) | 1UL << bit);
        var r = Access(rig, Data);
        Assert.That((r.Faulted, r.Error), Is.EqualTo((true, 0x9UL)), rig.Cpu.Diagnostic);
    }

    [Test]
    public void AddressBitsAboveMaxPhyAddrInANonLeafEntryAreReserved()
    {
        using var rig = new TestRig();
        rig.W64(Pd + 4 * 8, Pt | 7 | 1UL << 44);
        rig.W64(Pt, 0x80_0000 | 3);
        var r = Access(rig, 0x80_0000);
        Assert.That((r.Faulted, r.Error), Is.EqualTo((true, 0x9UL)), rig.Cpu.Diagnostic);
    }

    [Test]
    public void PsInAPml4eIsReserved()
    {
        using var rig = new TestRig();
        rig.W64(Pml4 + 8, Pdpt | 0x87);
        ulong la = (1UL << 39) + TestRig.DataBase;
        var r = Access(rig, la);
        Assert.That((r.Faulted, r.Error, r.Cr2), Is.EqualTo((true, 0x9UL, la)), rig.Cpu.Diagnostic);
    }

    [TestCase(13)]
    [TestCase(20)]
    public void ReservedBitsOfA2MiBPageAreReserved(int bit)
    {
        using var rig = new TestRig();
        rig.W64(Pd + 5 * 8, rig.R64(Pd + 5 * 8) | 1UL << bit);
        var r = Access(rig, Data);
        Assert.That((r.Faulted, r.Error), Is.EqualTo((true, 0x9UL)), rig.Cpu.Diagnostic);
    }

    [Test]
    public void ReservedBitsOfA1GiBPageAreReserved()
    {
        using var rig = new TestRig();
        rig.W64(Pdpt + 2 * 8, 0x8000_0000 | 0x83);
        Assert.That(Access(rig, 0x8000_0000).Faulted, Is.False, "a 1 GiB page on Denverton (PDPE1GB)");
        using var rig2 = new TestRig();
        rig2.W64(Pdpt + 2 * 8, 0x8000_0000 | 0x83 | 1UL << 20);
        var r = Access(rig2, 0x8000_0000);
        Assert.That((r.Faulted, r.Error), Is.EqualTo((true, 0x9UL)), rig2.Cpu.Diagnostic);
    }

    [Test]
    public void A1GiBPageWithoutPdpe1GbIsReserved()
    {
        using var rig = new TestRig(model: CpuModels.Qemu64);
        rig.W64(Pdpt + 2 * 8, 0x8000_0000 | 0x83);
        var r = Access(rig, 0x8000_0000);
        Assert.That((r.Faulted, r.Error), Is.EqualTo((true, 0x9UL)), rig.Cpu.Diagnostic);
    }
}
