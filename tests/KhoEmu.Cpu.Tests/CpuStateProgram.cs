using Iced.Intel;
using KhoEmu.Core.State;
using KhoEmu.Cpu.State;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Cpu.Tests;

/// <summary>
/// The program the CPU state tests cut in pieces: integer operations that leave lazy flags pending, SSE and x87
/// arithmetic, accesses through 4 KiB pages (page-table walks, accessed/dirty bits, a CR3 reload), RDRAND and RDTSC,
/// a bulk REP STOSQ/MOVSQ and a backward REP MOVSB (each several slices long), STI with an interrupt waiting (the
/// shadow, then the handler), MOV SS, and a final HLT with interrupts off. <see cref="Labels"/> gives the address of
/// each instruction a test cuts after.
/// </summary>
public sealed class CpuStateProgram : IDisposable
{
    public const int Vector = 0x40;
    public const ulong Handler = TestRig.CodeBase + 0x8000;
    /// <summary>The 4 KiB-mapped window: linear 1 GiB onwards, backed by physical 0x200000.</summary>
    public const ulong Window = 0x4000_0000;

    public TestRig Rig { get; }
    public ScheduledInterruptSink Sink { get; }
    public Dictionary<string, ulong> Labels { get; }

    public CpuStateProgram()
    {
        Rig = new TestRig();
        Sink = new ScheduledInterruptSink(Vector, 0, () => Rig.Cpu.InstructionCount);
        Rig.Cpu.Interrupts = Sink;
        Rig.SetGate(Vector, Handler);
        // PDPT[1] -> a page directory whose first entry is a page table of 4 KiB pages (SDM vol. 3, 4.5).
        Rig.W64(0x10_1000 + 8, 0x13_0000 | 3);
        Rig.W64(0x13_0000, 0x13_1000 | 3);
        for (ulong i = 0; i < 4; i++) Rig.W64(0x13_1000 + i * 8, (0x20_0000 + i * 0x1000) | 3);
        Labels = Assemble(Rig, BuildHandler, Handler);
        foreach (var (k, v) in Assemble(Rig, Build, TestRig.CodeBase)) Labels[k] = v;
        Rig.Cpu.InstructionPointer = TestRig.CodeBase;
    }

    private static void BuildHandler(Assembler a, Action<string> L)
    {
        a.add(r12, 5);
        L("iretq"); a.iretq();
    }

    private static void Build(Assembler a, Action<string> L)
    {
        a.mov(rax, 0x7FFF_FFFF_FFFF_FFFF);
        a.mov(rbx, 1);
        L("add"); a.add(rax, rbx);              // OF, SF pending in the lazy record
        a.seto(cl);
        a.adc(rbx, rax);
        L("sbb"); a.sbb(rdx, rbx);
        L("inc"); a.inc(rdx);                   // CF preserved through INC: a lazy record with carry
        a.setc(r8b);
        a.sets(r9b);
        // SSE
        a.movq(xmm0, rax);
        a.pshufd(xmm1, xmm0, 0x1B);
        a.paddd(xmm1, xmm0);
        a.cvtsi2sd(xmm2, rbx);
        L("sqrtsd"); a.sqrtsd(xmm3, xmm2);
        a.mulpd(xmm3, xmm2);
        a.stmxcsr(__dword_ptr[TestRig.DataBase]);
        // x87
        a.fninit();
        a.fld1();
        a.fldpi();
        a.fmulp(st1, st0);
        L("fsqrt"); a.fsqrt();
        a.fld(st0);
        a.fstp(__tword_ptr[TestRig.DataBase + 0x10]);
        a.fistp(__dword_ptr[TestRig.DataBase + 0x20]);
        // Page-table walks through 4 KiB pages, then a CR3 reload and the same pages again.
        a.mov(rdi, Window);
        L("store4k"); a.mov(__qword_ptr[rdi], rax);
        a.mov(__qword_ptr[rdi + 0x1008], rbx);
        a.mov(r10, __qword_ptr[rdi + 0x2010]);
        a.mov(r11, cr3);
        L("cr3"); a.mov(cr3, r11);
        a.add(r10, __qword_ptr[rdi + 0x1008]);
        a.mov(__qword_ptr[rdi + 0x3000], r10);
        a.rdrand(r14);
        a.rdtsc();
        a.shl(rdx, 32);
        a.or(rax, rdx);
        a.mov(__qword_ptr[TestRig.DataBase + 0x28], rax);
        // Strings: 3 MiB forward with the bulk path (1 MiB slices), 40000 bytes backward (16 Ki-element slices).
        a.mov(rax, 0x0123_4567_89AB_CDEF);
        a.mov(rdi, 0x100_0000);
        a.mov(rcx, 3 << 17);
        a.rep.stosq();
        a.mov(rsi, 0x100_0000);
        a.mov(rdi, 0x140_0000);
        a.mov(rcx, 3 << 17);
        L("movsq"); a.rep.movsq();
        a.std();
        a.mov(rsi, 0x100_0000 + 39999);
        a.mov(rdi, 0x180_0000 + 39999);
        a.mov(rcx, 40000);
        L("movsb"); a.rep.movsb();
        a.cld();
        // STI with the interrupt already waiting: it is taken after the next instruction, not before.
        L("sti"); a.sti();
        a.mov(r13, r12);                         // runs in the shadow: sees R12 before the handler's add
        a.cli();
        a.mov(ax, 0x10);
        L("movss"); a.mov(ss, ax);
        a.mov(r15, rsp);
        a.sub(r15, 7);                            // leaves a SUB pending at the HLT
        a.hlt();
    }

    /// <summary>Assembles with Iced at <paramref name="at"/>, loads the bytes and returns each label's address.</summary>
    private static Dictionary<string, ulong> Assemble(TestRig rig, Action<Assembler, Action<string>> build, ulong at)
    {
        var a = new Assembler(64);
        var labels = new Dictionary<string, Label>();
        build(a, name =>
        {
            var l = a.CreateLabel(name);
            a.Label(ref l); // binds the label (a struct) to the next instruction: keep this copy
            labels[name] = l;
        });
        using var ms = new MemoryStream();
        var result = a.Assemble(new StreamCodeWriter(ms), at, BlockEncoderOptions.ReturnNewInstructionOffsets);
        rig.Memory.Write(at, ms.ToArray());
        return labels.ToDictionary(l => l.Key, l => result.GetLabelRIP(l.Value));
    }

    /// <summary>A fresh CPU (same model, same setup) with a copy of this program's memory and interrupt controller, and
    /// <paramref name="section"/>'s bytes loaded through a snapshot section.</summary>
    public CpuStateProgram RestoreInto(byte[] section)
    {
        var copy = new CpuStateProgram();
        copy.Sink.Acknowledged = Sink.Acknowledged;
        CopyMemory(Rig, copy.Rig);
        var s = Section(copy.Rig.Cpu);
        s.Apply(s.Decode(section));
        return copy;
    }

    public static StateSection<CpuState> Section(Cpu cpu) => new("cpu0", cpu, CpuState.Version);

    public static void CopyMemory(TestRig from, TestRig to)
    {
        var buf = new byte[1 << 20];
        for (ulong a = 0; a < 64UL << 20; a += (ulong)buf.Length)
        {
            from.Memory.Read(a, buf);
            to.Memory.Write(a, buf);
        }
    }

    public static byte[] MemoryHash(TestRig rig)
    {
        var buf = new byte[1 << 20];
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        for (ulong a = 0; a < 64UL << 20; a += (ulong)buf.Length)
        {
            rig.Memory.Read(a, buf);
            sha.AppendData(buf);
        }
        return sha.GetHashAndReset();
    }

    public void Dispose() => Rig.Dispose();
}
