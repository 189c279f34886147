using KhoEmu.Cpu.State;
using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Cpu.Tests;

/// <summary>
/// VERR, VERW, LAR and LSL against descriptors of each type and privilege combination, in 64-bit mode, compatibility
/// mode and legacy protected mode, with the expectations written out from the SDM's tables (vol. 2A LAR/LSL
/// "Segment and Gate Types", VERR/VERW operation).
/// </summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class DescriptorCheckTests
{
    private const ulong Untouched = 0xDEAD_BEEF_CAFE_F00D;

    private readonly record struct Outcome(bool Verr, bool Verw, bool Lar, ulong LarValue, bool Lsl, ulong LslValue);

    /// <summary>Runs VERR/VERW/LAR/LSL on <paramref name="selector"/> and reports ZF and the destinations.</summary>
    private static Outcome Probe(DescriptorRig r, ushort selector)
    {
        r.Load(a =>
        {
            a.mov(ecx, selector);
            a.verr(cx); a.setz(al);
            a.verw(cx); a.setz(ah);
            a.lar(esi, ecx); a.setz(dl);
            a.lsl(edi, ecx); a.setz(dh);
        });
        var cpu = r.Cpu;
        cpu.SetGpr(Cpu.RSI, Untouched);
        cpu.SetGpr(Cpu.RDI, Untouched);
        Assert.That(cpu.Run(9), Is.EqualTo(StopReason.InstructionLimit), cpu.Diagnostic);
        ulong ax = cpu.GetGpr(Cpu.RAX), dx = cpu.GetGpr(Cpu.RDX);
        return new((ax & 0xFF) != 0, (ax & 0xFF00) != 0, (dx & 0xFF) != 0, cpu.GetGpr(Cpu.RSI), (dx & 0xFF00) != 0, cpu.GetGpr(Cpu.RDI));
    }

    // name, mode (64 / compat / legacy), CPL, RPL, access byte, flags nibble, expected VERR, VERW, LAR, LSL
    public static IEnumerable<TestCaseData> Cases()
    {
        TestCaseData C(string name, string mode, int cpl, int rpl, byte access, int flags, bool verr, bool verw, bool lar, bool lsl) =>
            new TestCaseData(mode, cpl, rpl, access, flags, verr, verw, lar, lsl).SetName($"{name} [{mode} CPL{cpl} RPL{rpl}]");
        foreach (var mode in new[] { "long64", "compat32", "legacy32" })
        {
            bool ia32e = mode != "legacy32";
            // Code and data segments: every type, visible at CPL 0 / RPL 0.
            yield return C("data read-only", mode, 0, 0, 0x91, 0xC, true, false, true, true);
            yield return C("data read/write", mode, 0, 0, 0x93, 0xC, true, true, true, true);
            yield return C("data expand-down read/write", mode, 0, 0, 0x97, 0x4, true, true, true, true);
            yield return C("code execute-only", mode, 0, 0, 0x99, 0xC, false, false, true, true);
            yield return C("code execute/read", mode, 0, 0, 0x9B, 0xC, true, false, true, true);
            yield return C("conforming execute-only", mode, 0, 0, 0x9D, 0xC, false, false, true, true);
            yield return C("conforming execute/read", mode, 0, 0, 0x9F, 0xC, true, false, true, true);
            yield return C("not-present data", mode, 0, 0, 0x13, 0xC, true, true, true, true);
            // Privilege: DPL must be >= CPL and >= RPL, except for conforming code.
            yield return C("DPL0 data at CPL3", mode, 3, 3, 0x93, 0xC, false, false, false, false);
            yield return C("DPL3 data at CPL3", mode, 3, 3, 0xF3, 0xC, true, true, true, true);
            yield return C("DPL2 data with RPL3 at CPL0", mode, 0, 3, 0xD3, 0xC, false, false, false, false);
            yield return C("DPL3 data with RPL3 at CPL0", mode, 0, 3, 0xF3, 0xC, true, true, true, true);
            yield return C("DPL1 data with RPL1 at CPL0", mode, 0, 1, 0xB3, 0xC, true, true, true, true);
            yield return C("DPL0 readable code at CPL3", mode, 3, 3, 0x9B, 0xC, false, false, false, false);
            yield return C("DPL0 conforming readable code at CPL3", mode, 3, 3, 0x9F, 0xC, true, false, true, true);
            // System descriptors: never readable or writable; LAR/LSL by the type tables.
            yield return C("16-bit TSS", mode, 0, 0, 0x81, 0, false, false, !ia32e, !ia32e);
            yield return C("LDT", mode, 0, 0, 0x82, 0, false, false, !ia32e, true);
            yield return C("busy 16-bit TSS", mode, 0, 0, 0x83, 0, false, false, !ia32e, !ia32e);
            yield return C("16-bit call gate", mode, 0, 0, 0x84, 0, false, false, !ia32e, false);
            yield return C("task gate", mode, 0, 0, 0x85, 0, false, false, !ia32e, false);
            yield return C("16-bit interrupt gate", mode, 0, 0, 0x86, 0, false, false, false, false);
            yield return C("16-bit trap gate", mode, 0, 0, 0x87, 0, false, false, false, false);
            yield return C("reserved type 8", mode, 0, 0, 0x88, 0, false, false, false, false);
            yield return C("available 32/64-bit TSS", mode, 0, 0, 0x89, 0, false, false, true, true);
            yield return C("reserved type A", mode, 0, 0, 0x8A, 0, false, false, false, false);
            yield return C("busy 32/64-bit TSS", mode, 0, 0, 0x8B, 0, false, false, true, true);
            yield return C("32/64-bit call gate", mode, 0, 0, 0x8C, 0, false, false, true, false);
            yield return C("interrupt gate", mode, 0, 0, 0x8E, 0, false, false, false, false);
            yield return C("trap gate", mode, 0, 0, 0x8F, 0, false, false, false, false);
            yield return C("type 0 (upper half of a 16-byte descriptor)", mode, 0, 0, 0x00, 0, false, false, false, ia32e);
            yield return C("DPL0 TSS at CPL3", mode, 3, 3, 0x89, 0, false, false, false, false);
            yield return C("DPL3 TSS at CPL3", mode, 3, 3, 0xE9, 0, false, false, true, true);
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void MatchesTheSdmTables(string mode, int cpl, int rpl, byte access, int flags, bool verr, bool verw, bool lar, bool lsl)
    {
        using var r = new DescriptorRig(mode == "long64" ? 64 : 32, cpl, legacy: mode == "legacy32");
        ulong d = DescriptorRig.Descriptor(access, 0x1_2345, flags);
        r.SetDescriptor(DescriptorRig.FreeIndex, d);
        var o = Probe(r, (ushort)(DescriptorRig.FreeIndex * 8 | rpl));
        Assert.Multiple(() =>
        {
            Assert.That(o.Verr, Is.EqualTo(verr), "VERR");
            Assert.That(o.Verw, Is.EqualTo(verw), "VERW");
            Assert.That(o.Lar, Is.EqualTo(lar), "LAR ZF");
            Assert.That(o.Lsl, Is.EqualTo(lsl), "LSL ZF");
            // 32-bit destinations: compared in full in 64-bit mode (zero-extended), as 32 bits elsewhere.
            ulong m = mode == "long64" ? ulong.MaxValue : 0xFFFF_FFFF;
            Assert.That(o.LarValue & m, Is.EqualTo((lar ? (d >> 32) & 0x00FF_FF00 : Untouched) & m), "LAR value");
            ulong limit = (flags & 8) != 0 ? 0x1_2345_FFFUL : 0x1_2345UL;
            Assert.That(o.LslValue & m, Is.EqualTo((lsl ? limit : Untouched) & m), "LSL value");
        });
    }

    [TestCase(0x0000, TestName = "Null selector")]
    [TestCase(0x0003, TestName = "Null selector with RPL 3")]
    [TestCase(0x0400, TestName = "Selector beyond the GDT limit")]
    [TestCase(0x000C, TestName = "LDT selector with a null LDTR")]
    public void UnusableSelectorsClearZf(int selector)
    {
        using var r = new DescriptorRig(64, 0);
        r.Load(a => { a.xor(eax, eax); a.lldt(ax); });   // LDTR after reset is usable (base 0, limit FFFFh): clear it
        r.Cpu.Run(2);
        var o = Probe(r, (ushort)selector);
        Assert.That((o.Verr, o.Verw, o.Lar, o.Lsl), Is.EqualTo((false, false, false, false)));
        Assert.That((o.LarValue, o.LslValue), Is.EqualTo((Untouched, Untouched)), "destinations unchanged");
    }

    [Test]
    public void VerwWithAMemoryOperandAsLinuxUsesIt()
    {
        // Linux's MDS mitigation: "verw mds_verw_sel(%rip)" with the word __KERNEL_DS (0x18 there, 0x10 here).
        using var r = new DescriptorRig(64, 0);
        r.Rig.Memory.WritePhys(TestRig.DataBase, 2, 0x10);
        r.Load(a => { a.mov(rbx, TestRig.DataBase); a.xor(eax, eax); a.verw(__word_ptr[rbx]); a.setz(al); });
        r.Cpu.Run(4);
        Assert.That(r.Cpu.GetGpr(Cpu.RAX), Is.EqualTo(1));
    }

    [Test]
    public void LarAndLslOperandSizes()
    {
        using var r = new DescriptorRig(64, 0);
        r.SetDescriptor(DescriptorRig.FreeIndex, 0x00CF_9300_0000_FFFF); // flat 4 GiB data, G=1
        r.Load(a =>
        {
            a.mov(ecx, DescriptorRig.FreeIndex * 8);
            a.mov(rax, -1L); a.lar(ax, cx);     // 16-bit: access byte in bits 15:8, bits 63:16 kept
            a.mov(rbx, -1L); a.lar(rbx, rcx);   // 64-bit: zero-extended
            a.mov(rdx, -1L); a.lsl(dx, cx);     // 16-bit: low word of the byte-granular limit
            a.mov(rsi, 0L); a.lsl(rsi, rcx);    // 64-bit: 0xFFFFFFFF
        });
        r.Cpu.Run(9);
        Assert.That(r.Cpu.GetGpr(Cpu.RAX), Is.EqualTo(0xFFFF_FFFF_FFFF_9300UL));
        Assert.That(r.Cpu.GetGpr(Cpu.RBX), Is.EqualTo(0x00CF_9300UL), "limit 19:16 included, as hardware returns it");
        Assert.That(r.Cpu.GetGpr(Cpu.RDX), Is.EqualTo(0xFFFF_FFFF_FFFF_FFFFUL));
        Assert.That(r.Cpu.GetGpr(Cpu.RSI), Is.EqualTo(0xFFFF_FFFFUL));
    }

    [Test]
    public void DescriptorChecksAreInvalidInRealMode()
    {
        using var rig = new TestRig();
        rig.Cpu.SetControlRegisters(ControlBits.Cr0ET, 0, 0, 0);
        rig.Cpu.LoadSegment(SegReg.CS, SegmentCache.RealMode(0, 0x9B));
        rig.Cpu.LoadSegment(SegReg.SS, SegmentCache.RealMode(0));
        rig.Cpu.SetDescriptorTables(0, 0xFFFF, 0, 0x3FF);
        rig.Memory.WritePhys(Vector.UD * 4, 4, 0x7100);   // IVT[6] = 0000:7100
        rig.Cpu.SetGpr(Cpu.RSP, 0x6000);
        // The #UD handler counts in BX and resumes 3 bytes after the faulting instruction.
        var handler = new Iced.Intel.Assembler(16);
        handler.inc(bx);
        handler.pop(si);
        handler.add(si, 3);
        handler.push(si);
        handler.iret();
        Write16(rig, 0x7100, handler);
        var body = new Iced.Intel.Assembler(16);
        body.xor(bx, bx);
        body.verr(cx);        // 3 bytes each
        body.verw(cx);
        body.lar(ax, cx);
        body.lsl(ax, cx);
        body.arpl(ax, cx);    // 2 bytes, then a NOP so the handler's +3 lands on HLT
        body.nop();
        body.hlt();
        Write16(rig, 0x7000, body);
        rig.Cpu.InstructionPointer = 0x7000;
        Assert.That(rig.Cpu.Run(200), Is.EqualTo(StopReason.HaltedForever), rig.Cpu.Diagnostic);
        Assert.That(rig.Cpu.GetGpr(Cpu.RBX) & 0xFFFF, Is.EqualTo(5), "five #UD");
    }

    private static void Write16(TestRig rig, ulong at, Iced.Intel.Assembler a)
    {
        using var ms = new MemoryStream();
        a.Assemble(new Iced.Intel.StreamCodeWriter(ms), at);
        rig.Memory.Write(at, ms.ToArray());
    }
}
