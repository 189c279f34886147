using KhoEmu.Cpu.State;
using NUnit.Framework;

namespace KhoEmu.Cpu.Tests;

/// <summary>
/// LAR, LSL, VERR and VERW on the host's own GDT, in 64-bit user mode on both sides. The host's descriptors that
/// ring 3 can see are rebuilt in the emulator's GDT from what the host's LAR/LSL report for RPL 3; every selector
/// 0-7Fh (all RPLs, GDT and LDT), the GDT limit and beyond are then compared: ZF of all four instructions, and the
/// LAR/LSL values. Privilege rules (RPL 0-2, DPL-0 entries), VERR/VERW's type rules, the LAR mask and the null-LDT
/// and limit checks are therefore the host's, not a restatement of the emulator's.
/// </summary>
[TestFixture, NonParallelizable, Category("Differential")]
public sealed unsafe class DescriptorDifferentialTests
{
    /// <summary>The Linux GDT entry whose limit holds the CPU and node number the thread runs on (GDT_ENTRY_CPUNODE).</summary>
    private const int CpuNodeIndex = 15;

    private readonly record struct Result(bool Lar, ulong LarValue, bool Lsl, ulong LslValue, bool Verr, bool Verw);

    // lar rax,rcx; setz r8b; lsl rdx,rcx; setz r9b  |  verr cx; setz r10b; verw cx; setz r11b
    private static readonly byte[] LarLsl = [0x48, 0x0F, 0x02, 0xC1, 0x41, 0x0F, 0x94, 0xC0, 0x48, 0x0F, 0x03, 0xD1, 0x41, 0x0F, 0x94, 0xC1];
    private static readonly byte[] VerrVerw = [0x0F, 0x00, 0xE1, 0x41, 0x0F, 0x94, 0xC2, 0x0F, 0x00, 0xE9, 0x41, 0x0F, 0x94, 0xC3];
    private const ulong Untouched = 0x5A5A_5A5A_5A5A_5A5A;

    private static Result Host(NativeExecutor native, ushort selector)
    {
        var s = new ulong[NativeExecutor.StateSlots];
        s[Cpu.RAX] = s[Cpu.RDX] = Untouched;
        s[Cpu.RCX] = selector;
        s[16] = Rflags.Reserved1;
        native.Execute(LarLsl, s);
        var t = new ulong[NativeExecutor.StateSlots];
        t[Cpu.RCX] = selector;
        t[16] = Rflags.Reserved1;
        native.Execute(VerrVerw, t);
        return new((s[8] & 1) != 0, s[Cpu.RAX], (s[9] & 1) != 0, s[Cpu.RDX], (t[10] & 1) != 0, (t[11] & 1) != 0);
    }

    private static Result Emulated(DescriptorRig r, ushort selector)
    {
        var cpu = r.Cpu;
        r.Rig.Memory.Write(TestRig.CodeBase, [.. LarLsl, .. VerrVerw]);
        cpu.InvalidateDecodedCode();
        cpu.InstructionPointer = TestRig.CodeBase;
        for (int i = 0; i < 16; i++) if (i != Cpu.RSP) cpu.SetGpr(i, 0);
        cpu.SetGpr(Cpu.RAX, Untouched);
        cpu.SetGpr(Cpu.RDX, Untouched);
        cpu.SetGpr(Cpu.RCX, selector);
        Assert.That(cpu.Run(8), Is.EqualTo(StopReason.InstructionLimit), cpu.Diagnostic);
        return new((cpu.GetGpr(8) & 1) != 0, cpu.GetGpr(Cpu.RAX), (cpu.GetGpr(9) & 1) != 0, cpu.GetGpr(Cpu.RDX),
            (cpu.GetGpr(10) & 1) != 0, (cpu.GetGpr(11) & 1) != 0);
    }

    [Test]
    public void MatchesHostOnItsOwnGdt()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("the host GDT layout is Linux's");
        using var native = new NativeExecutor();
        using var r = new DescriptorRig(64, 3);

        // Rebuild the ring-3-visible host descriptors; the others become a DPL-0 data segment (invisible at CPL 3 too).
        int visible = 0;
        for (int index = 1; index < 16; index++)
        {
            var h = Host(native, (ushort)(index * 8 | 3));
            ulong d = 0x00CF_9300_0000_FFFF;
            if (h.Lar)
            {
                visible++;
                byte access = (byte)(h.LarValue >> 8);
                int flags = (int)(h.LarValue >> 20) & 0xF;
                uint limit = !h.Lsl ? 0 : (flags & 8) != 0 ? (uint)(h.LslValue >> 12) : (uint)h.LslValue;
                d = DescriptorRig.Descriptor(access, limit, flags);
            }
            r.SetDescriptor(index, d);
        }
        Assert.That(visible, Is.GreaterThanOrEqualTo(3), "Linux has user code32, data and code64 segments at DPL 3");
        r.Cpu.SetDescriptorTables(DescriptorRig.GdtBase, 16 * 8 - 1, TestRig.IdtBase, 16 * 256 - 1);

        var mismatches = new List<string>();
        ushort[] selectors = [.. Enumerable.Range(0, 0x80).Select(i => (ushort)i), 0x80, 0x83, 0xFFFB, 0xFFFC];
        foreach (ushort sel in selectors)
        {
            var h = Host(native, sel);
            var e = Emulated(r, sel);
            bool cpuNode = sel >> 3 == CpuNodeIndex && (sel & 4) == 0;
            bool same = h.Lar == e.Lar && h.Lsl == e.Lsl && h.Verr == e.Verr && h.Verw == e.Verw
                && (!h.Lar || h.LarValue == e.LarValue)
                && (!h.Lsl || cpuNode || h.LslValue == e.LslValue)   // the CPU number changes as the thread migrates
                && (h.Lar || e.LarValue == Untouched) && (h.Lsl || e.LslValue == Untouched);
            if (!same) mismatches.Add($"selector {sel:x4}: host {h}, emulator {e}");
        }
        Assert.That(mismatches, Is.Empty, string.Join("\n", mismatches.Take(10)));
    }
}
