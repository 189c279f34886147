using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;
using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu.Tests;

/// <summary>
/// A <see cref="TestRig"/> switched to a chosen mode and privilege level with a GDT at <see cref="GdtBase"/>:
/// 0x08 64-bit code, 0x10 data, 0x18 32-bit code, 0x20 ring-3 32-bit code, 0x28 ring-3 data, 0x30 ring-3 64-bit code;
/// slots from index 8 up are free for the descriptor under test.
/// </summary>
public sealed class DescriptorRig : IDisposable
{
    public const ulong GdtBase = 0x3000;
    public const int FreeIndex = 8;
    public const ushort GdtLimit = 0x3FF;

    public TestRig Rig { get; }
    public Cpu Cpu => Rig.Cpu;
    public int Bitness { get; }

    /// <param name="mode">64 (long mode), 32 (compatibility mode), "legacy" protected mode 32 with <paramref name="legacy"/>.</param>
    public DescriptorRig(int bitness, int cpl, bool legacy = false, CpuModel? model = null)
    {
        Rig = new TestRig(model: model);
        Bitness = bitness;
        ulong[] gdt = [0, 0x00AF_9B00_0000_FFFF, 0x00CF_9300_0000_FFFF, 0x00CF_9B00_0000_FFFF, 0x00CF_FB00_0000_FFFF,
            0x00CF_F300_0000_FFFF, 0x00AF_FB00_0000_FFFF];
        for (int i = 0; i < gdt.Length; i++) Rig.W64(GdtBase + (ulong)i * 8, gdt[i]);
        Cpu.SetDescriptorTables(GdtBase, GdtLimit, TestRig.IdtBase, 16 * 256 - 1);
        // User-accessible paging structures for ring 3 (the leaf 2 MiB pages already have U=1).
        Rig.W64(0x10_0000, 0x10_1000 | 7);
        Rig.W64(0x10_1000, 0x10_2000 | 7);
        // LDTR after reset is usable (base 0, limit FFFFh); load the null selector so LDT selectors are unusable.
        Rig.Load(a => { a.xor(eax, eax); a.lldt(ax); });
        Cpu.Run(2);
        if (legacy) Cpu.SetControlRegisters(ControlBits.Cr0PE | ControlBits.Cr0ET, 0, ControlBits.Cr4OSFXSR, 0);
        ushort cs = (bitness, cpl) switch { (64, 0) => 0x08, (64, _) => 0x33, (_, 0) => 0x18, _ => 0x23 };
        ushort ds = cpl == 0 ? (ushort)0x10 : (ushort)0x2B;
        Cpu.LoadSegment(SegReg.CS, SegmentCache.FromDescriptor(cs, gdt[cs >> 3]));
        foreach (int s in new[] { SegReg.DS, SegReg.ES, SegReg.SS, SegReg.FS, SegReg.GS })
            Cpu.LoadSegment(s, SegmentCache.FromDescriptor(ds, gdt[ds >> 3]));
    }

    /// <summary>Runs <paramref name="count"/> instructions of 64-bit ring-0 code (MSR and control-register set-up),
    /// then returns to the rig's mode and privilege level.</summary>
    public void RunRing0(Action<Assembler> build, int count)
    {
        var cs = Cpu.GetSegment(SegReg.CS);
        var ss = Cpu.GetSegment(SegReg.SS);
        Cpu.LoadSegment(SegReg.CS, SegmentCache.FromDescriptor(0x08, 0x00AF_9B00_0000_FFFF));
        Cpu.LoadSegment(SegReg.SS, SegmentCache.FromDescriptor(0x10, 0x00CF_9300_0000_FFFF));
        Rig.Load(build);
        if (Cpu.Run((ulong)count) != StopReason.InstructionLimit) throw new InvalidOperationException(Cpu.Diagnostic);
        Cpu.LoadSegment(SegReg.CS, cs);
        Cpu.LoadSegment(SegReg.SS, ss);
    }

    public void SetDescriptor(int index, ulong descriptor) => Rig.W64(GdtBase + (ulong)index * 8, descriptor);

    /// <summary>Assembles code for the rig's bitness at <see cref="TestRig.CodeBase"/> and points RIP at it.</summary>
    public void Load(Action<Assembler> build)
    {
        var a = new Assembler(Bitness);
        build(a);
        using var ms = new MemoryStream();
        a.Assemble(new StreamCodeWriter(ms), TestRig.CodeBase);
        Rig.Memory.Write(TestRig.CodeBase, ms.ToArray());
        Cpu.InstructionPointer = TestRig.CodeBase;
    }

    /// <summary>An 8-byte descriptor: base 0, the given limit (20 bits), access byte and flags nibble (G, D/B, L, AVL).</summary>
    public static ulong Descriptor(byte access, uint limit = 0xFFFF, int flags = 0) =>
        (limit & 0xFFFF) | ((ulong)(limit >> 16 & 0xF) << 48) | ((ulong)access << 40) | ((ulong)(flags & 0xF) << 52);

    public void Dispose() => Rig.Dispose();
}
