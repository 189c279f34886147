using KhoEmu.Cpu.State;
using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Cpu.Tests;

/// <summary>AAA/AAS/AAM/AAD/DAA/DAS, BOUND and LDS/LES/LFS/LGS/LSS (SDM vol. 2), with the SDM's worked examples.</summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class LegacyBcdAndFarPointerTests
{
    private const ulong Handler = TestRig.CodeBase + 0x20000;

    /// <summary>A compatibility-mode rig whose #DE and #BR handlers (64-bit code) record the vector in R15.</summary>
    private static DescriptorRig Compat()
    {
        var r = new DescriptorRig(32, 0);
        foreach (int v in new[] { Vector.DE, Vector.BR, Vector.UD })
        {
            ulong at = Handler + (ulong)v * 0x40;
            r.Rig.SetGate(v, at);
            r.Rig.Load(a => { a.mov(r15, v); a.hlt(); }, at);
        }
        r.Cpu.SetGpr(15, 0);
        return r;
    }

    private static ulong Flags(DescriptorRig r) => r.Cpu.GetRflags();

    [Test]
    public void AsciiAdjustAfterAdditionAndSubtraction()
    {
        using var r = Compat();
        r.Load(a => { a.mov(eax, 0x0009); a.add(al, 0x08); a.aaa(); a.mov(ebx, eax); a.mov(eax, 0x00FA); a.aaa(); });
        Assert.That(r.Cpu.Run(6), Is.EqualTo(StopReason.InstructionLimit), r.Cpu.Diagnostic);
        Assert.That(r.Cpu.GetGpr(Cpu.RBX) & 0xFFFF, Is.EqualTo(0x0107UL), "9 + 8 = 17 unpacked");
        Assert.That(r.Cpu.GetGpr(Cpu.RAX) & 0xFFFF, Is.EqualTo(0x0200UL), "AX + 106H: AL FAH carries into AH");
        Assert.That(Flags(r) & (Rflags.CF | Rflags.AF), Is.EqualTo(Rflags.CF | Rflags.AF));
        r.Load(a => { a.mov(eax, 0x0102); a.sub(al, 0x05); a.aas(); a.mov(ebx, eax); a.mov(eax, 0x0105); a.add(al, 0); a.aas(); });
        Assert.That(r.Cpu.Run(7), Is.EqualTo(StopReason.InstructionLimit), r.Cpu.Diagnostic);
        Assert.That(r.Cpu.GetGpr(Cpu.RBX) & 0xFFFF, Is.EqualTo(0x0007UL), "12 - 5 = 7 unpacked");
        Assert.That(r.Cpu.GetGpr(Cpu.RAX) & 0xFFFF, Is.EqualTo(0x0105UL), "no adjustment: AL masked only");
        Assert.That(Flags(r) & (Rflags.CF | Rflags.AF), Is.Zero);
    }

    [Test]
    public void DecimalAdjustAfterAdditionAndSubtraction()
    {
        using var r = Compat();
        r.Load(a => { a.mov(eax, 0x79); a.add(al, 0x35); a.daa(); });
        Assert.That(r.Cpu.Run(3), Is.EqualTo(StopReason.InstructionLimit), r.Cpu.Diagnostic);
        Assert.That(r.Cpu.GetGpr(Cpu.RAX) & 0xFF, Is.EqualTo(0x14UL), "79 + 35 = 114");
        Assert.That(Flags(r) & (Rflags.CF | Rflags.AF | Rflags.ZF | Rflags.SF), Is.EqualTo(Rflags.CF | Rflags.AF));
        r.Load(a => { a.mov(eax, 0x35); a.sub(al, 0x47); a.das(); });
        Assert.That(r.Cpu.Run(3), Is.EqualTo(StopReason.InstructionLimit), r.Cpu.Diagnostic);
        Assert.That(r.Cpu.GetGpr(Cpu.RAX) & 0xFF, Is.EqualTo(0x88UL), "35 - 47 = 88 with a borrow");
        Assert.That(Flags(r) & (Rflags.CF | Rflags.AF | Rflags.SF), Is.EqualTo(Rflags.CF | Rflags.AF | Rflags.SF));
        r.Load(a => { a.mov(eax, 0x99); a.add(al, 0x01); a.daa(); });
        Assert.That(r.Cpu.Run(3), Is.EqualTo(StopReason.InstructionLimit), r.Cpu.Diagnostic);
        Assert.That(r.Cpu.GetGpr(Cpu.RAX) & 0xFF, Is.Zero, "99 + 1 = 100");
        Assert.That(Flags(r) & (Rflags.CF | Rflags.ZF | Rflags.PF), Is.EqualTo(Rflags.CF | Rflags.ZF | Rflags.PF));
    }

    [Test]
    public void AsciiAdjustMultiplyAndDivide()
    {
        using var r = Compat();
        r.Load(a => { a.mov(eax, 0xAB3F); a.aam(10); a.mov(ebx, eax); a.aad(10); a.mov(ecx, eax); a.mov(eax, 0x3F); a.aam(16); a.mov(edx, eax); a.aad(16); });
        Assert.That(r.Cpu.Run(9), Is.EqualTo(StopReason.InstructionLimit), r.Cpu.Diagnostic);
        Assert.That(r.Cpu.GetGpr(Cpu.RBX) & 0xFFFF, Is.EqualTo(0x0603UL), "63 = 6, 3");
        Assert.That(r.Cpu.GetGpr(Cpu.RCX) & 0xFFFF, Is.EqualTo(0x003FUL), "6, 3 = 63");
        Assert.That(r.Cpu.GetGpr(Cpu.RDX) & 0xFFFF, Is.EqualTo(0x030FUL), "base 16");
        Assert.That(r.Cpu.GetGpr(Cpu.RAX) & 0xFFFF, Is.EqualTo(0x003FUL));
        Assert.That(Flags(r) & (Rflags.ZF | Rflags.SF | Rflags.CF | Rflags.OF | Rflags.AF | Rflags.PF), Is.EqualTo(Rflags.PF), "flags of AL 3FH");
        r.Load(a => { a.mov(eax, 0x1234); a.aam(0); });
        r.Cpu.Run(5);
        Assert.That(r.Cpu.GetGpr(15), Is.EqualTo((ulong)Vector.DE), "AAM 0 is #DE");
        Assert.That(r.Cpu.GetGpr(Cpu.RAX) & 0xFFFF, Is.EqualTo(0x1234UL));
    }

    [TestCase(10, false)]
    [TestCase(-5, false)]
    [TestCase(11, true)]
    [TestCase(-6, true)]
    public void BoundRaisesBoundRangeOutside(int index, bool faults)
    {
        using var r = Compat();
        r.Rig.W64(TestRig.DataBase, 0xFFFF_FFFBUL | 10UL << 32);
        r.Rig.W64(TestRig.DataBase + 8, (ushort)0xFFFB | (ulong)10 << 16);
        r.Load(a => { a.mov(ebx, (uint)TestRig.DataBase); a.mov(eax, index); a.bound(eax, __[ebx]); a.bound(ax, __[ebx + 8]); a.mov(ecx, 1); });
        r.Cpu.SetGpr(Cpu.RCX, 0);
        r.Cpu.Run(6);
        Assert.That(r.Cpu.GetGpr(15), Is.EqualTo(faults ? (ulong)Vector.BR : 0));
        Assert.That(r.Cpu.GetGpr(Cpu.RCX), Is.EqualTo(faults ? 0UL : 1UL));
    }

    [Test]
    public void BcdAndBoundAreInvalidIn64BitMode()
    {
        using var p = new FaultProbe();
        foreach (byte[] code in new[] { new byte[] { 0x37 }, [0x3F], [0x27], [0x2F], [0xD4, 0x0A], [0xD5, 0x0A] })
        {
            p.Rig.Memory.Write(TestRig.CodeBase, [.. code, 0xE6, FaultProbe.StopPort]);
            p.Cpu.SetGpr(15, unchecked((ulong)FaultProbe.None));
            p.Cpu.InstructionPointer = TestRig.CodeBase;
            p.Cpu.Run(100);
            Assert.That((int)(long)p.Cpu.GetGpr(15), Is.EqualTo(Vector.UD), Convert.ToHexString(code));
        }
    }

    [Test]
    public void FarPointerLoadsIn64BitMode()
    {
        using var p = new FaultProbe();
        const ulong m = TestRig.DataBase;
        p.Rig.W64(m, 0x1122_3344_5566_7788);
        p.Rig.W64(m + 8, 0x10); // selector of the m16:64 form
        p.Rig.W64(m + 0x10, 0x0010_DEAD_BEEF); // m16:32: offset DEADBEEF, selector 10H
        p.Rig.W64(m + 0x20, 0x0040_0000_1234); // selector 40H is beyond the GDT limit
        p.Rig.W64(m + 0x30, 0x0010_BEEF); // m16:16
        Assert.That(p.Run(a =>
        {
            a.mov(rbx, m);
            a.xor(eax, eax); a.mov(fs, eax); a.mov(gs, eax);
            a.lfs(rcx, __[rbx]);
            a.lgs(edx, __[rbx + 0x10]);
            a.lss(si, __[rbx + 0x30]);
        }), Is.EqualTo(FaultProbe.None), $"error {p.Error:x} at {p.Cpu.InstructionPointer:x}");
        Assert.That(p.Cpu.GetGpr(Cpu.RCX), Is.EqualTo(0x1122_3344_5566_7788UL));
        Assert.That(p.Cpu.GetGpr(Cpu.RDX), Is.EqualTo(0xDEAD_BEEFUL));
        Assert.That(p.Cpu.GetGpr(Cpu.RSI) & 0xFFFF, Is.EqualTo(0xBEEFUL));
        Assert.That(p.Cpu.GetSegment(SegReg.FS).Selector, Is.EqualTo(0x10));
        Assert.That(p.Cpu.GetSegment(SegReg.GS).Selector, Is.EqualTo(0x10));
        p.Cpu.SetGpr(Cpu.RDI, 0x5555);
        Assert.That(p.Run(a => { a.mov(rbx, m); a.lfs(edi, __[rbx + 0x20]); }), Is.EqualTo(Vector.GP));
        Assert.That(p.Error, Is.EqualTo(0x40UL), "#GP(selector)");
        Assert.That(p.Cpu.GetGpr(Cpu.RDI), Is.EqualTo(0x5555UL), "a faulting load leaves the register unchanged");
    }

    [Test]
    public void LdsAndLesInCompatibilityMode()
    {
        using var r = Compat();
        r.Rig.W64(TestRig.DataBase, 0x0010_0000_1234);
        r.Load(a => { a.mov(ebx, (uint)TestRig.DataBase); a.xor(eax, eax); a.mov(es, eax); a.les(edi, __[ebx]); a.lds(esi, __[ebx]); });
        Assert.That(r.Cpu.Run(5), Is.EqualTo(StopReason.InstructionLimit), r.Cpu.Diagnostic);
        Assert.That(r.Cpu.GetGpr(Cpu.RDI), Is.EqualTo(0x1234UL));
        Assert.That(r.Cpu.GetGpr(Cpu.RSI), Is.EqualTo(0x1234UL));
        Assert.That(r.Cpu.GetSegment(SegReg.ES).Selector, Is.EqualTo(0x10));
        Assert.That(r.Cpu.GetSegment(SegReg.DS).Selector, Is.EqualTo(0x10));
    }
}
