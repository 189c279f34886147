using System.Text;
using Iced.Intel;
using KhoEmu.Cpu.State;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Machine.Boot;

/// <summary>
/// The built-in guest `khoemu run` boots when no kernel is given: assembled with Iced at start-up, entered like a PVH
/// kernel (32-bit protected mode, paging off), it builds identity page tables, enters long mode, installs an IDT,
/// prints through COM1, exercises SSE2 and REP MOVSB, takes and handles a #UD, and exits through isa-debug-exit.
/// </summary>
public static class DemoGuest
{
    public const ulong Entry32 = 0x10_0000, Entry64 = 0x10_1000;
    private const uint Pml4 = 0x20_0000;

    public static void Load(PcMachine m)
    {
        // Its page tables start at 2 MiB (Pml4) and the fuzz tests' IDT sits at 3 MiB.
        if (m.Memory.LowRamSize < MinimumRam)
            throw new BootException($"the demo guest needs at least {MinimumRam >> 20} MiB of RAM, -m gives {m.Memory.LowRamSize >> 10} KiB");
        DirectBoot.Load(m, Image(Assemble(Build32(), Entry32), Assemble(Build64(), Entry64)), "");
    }

    public const ulong MinimumRam = 4UL << 20;

    /// <summary>A PVH ELF: one note pointing at <see cref="Entry32"/>, the 32-bit and the 64-bit code as PT_LOAD segments.</summary>
    private static byte[] Image(byte[] code32, byte[] code64)
    {
        var w = new Elf.ElfWriter(Elf.ElfWriter.FileKind.Executable) { Entry = Entry32 };
        w.AddNote("Xen", DirectBoot.PvhNoteType, BitConverter.GetBytes(Entry32));
        w.AddSegment(Entry32, Entry32, code32, (ulong)code32.Length, 5);
        w.AddSegment(Entry64, Entry64, code64, (ulong)code64.Length, 5);
        return w.Build();
    }

    private static byte[] Assemble(Assembler a, ulong rip)
    {
        using var ms = new MemoryStream();
        a.Assemble(new StreamCodeWriter(ms), rip);
        return ms.ToArray();
    }

    private static Assembler Build32()
    {
        var a = new Assembler(32);
        a.mov(esp, 0x9_0000);
        // Zero three pages of tables, then PML4[0] → PDPT, PDPT[0] → PD, PD[0..511] = 2 MiB identity pages.
        a.mov(edi, Pml4);
        a.xor(eax, eax);
        a.mov(ecx, 3 * 1024);
        a.cld();
        a.rep.stosd();
        a.mov(__dword_ptr[Pml4], Pml4 + 0x1000 + 3);
        a.mov(__dword_ptr[Pml4 + 0x1000], Pml4 + 0x2000 + 3);
        a.mov(edi, Pml4 + 0x2000);
        a.mov(eax, 0x83);
        a.mov(ecx, 512);
        var fill = a.CreateLabel();
        a.Label(ref fill);
        a.mov(__dword_ptr[edi], eax);
        a.add(eax, 0x20_0000);
        a.add(edi, 8);
        a.loop(fill);
        a.mov(eax, cr4);
        a.or(eax, (int)(ControlBits.Cr4PAE | ControlBits.Cr4OSFXSR | ControlBits.Cr4OSXMMEXCPT));
        a.mov(cr4, eax);
        a.mov(eax, Pml4);
        a.mov(cr3, eax);
        a.mov(ecx, Msr.Efer);
        a.rdmsr();
        a.or(eax, (int)(Msr.EferLme | Msr.EferNxe));
        a.wrmsr();
        a.mov(eax, cr0);
        a.or(eax, unchecked((int)(ControlBits.Cr0PG | ControlBits.Cr0MP)));
        a.and(eax, ~(int)ControlBits.Cr0EM);
        a.mov(cr0, eax);
        a.push(0x18);            // 64-bit code selector in the boot GDT
        a.push((int)Entry64);
        a.retf();
        return a;
    }

    private static Assembler Build64()
    {
        var a = new Assembler(64);
        Label print = a.CreateLabel(), idtr = a.CreateLabel(), idt = a.CreateLabel(), udHandler = a.CreateLabel();
        Label hello = a.CreateLabel(), sseOk = a.CreateLabel(), sseBad = a.CreateLabel(), copied = a.CreateLabel();
        Label udMsg = a.CreateLabel(), bye = a.CreateLabel(), vec = a.CreateLabel(), buffer = a.CreateLabel();
        Label afterSse = a.CreateLabel(), vec2 = a.CreateLabel(), sseBadMsg = a.CreateLabel();

        a.mov(ax, 0x10);
        a.mov(ds, ax);
        a.mov(es, ax);
        a.mov(ss, ax);
        a.mov(rsp, 0x9_0000);

        // IDT gate 6 (#UD) → udHandler: a 64-bit interrupt gate built at run time from the handler's address.
        a.lea(rax, __[udHandler]);
        a.lea(rdi, __[idt]);
        a.mov(__word_ptr[rdi + 6 * 16], ax);
        a.mov(__word_ptr[rdi + 6 * 16 + 2], 0x18);
        a.mov(__word_ptr[rdi + 6 * 16 + 4], 0x8E00);
        a.shr(rax, 16);
        a.mov(__word_ptr[rdi + 6 * 16 + 6], ax);
        a.shr(rax, 16);
        a.mov(__dword_ptr[rdi + 6 * 16 + 8], eax);
        a.lea(rax, __[idt]);
        a.lea(rdi, __[idtr]);
        a.mov(__qword_ptr[rdi + 2], rax);
        a.lidt(__[rdi]);

        a.lea(rsi, __[hello]);
        a.call(print);

        // SSE2: double each 32-bit lane of a vector and compare with the expected result.
        a.movdqu(xmm0, __xmmword_ptr[vec]);
        a.paddd(xmm0, xmm0);
        a.movdqu(xmm1, __xmmword_ptr[vec2]);
        a.pcmpeqd(xmm0, xmm1);
        a.pmovmskb(eax, xmm0);
        a.cmp(eax, 0xFFFF);
        a.jne(sseBad);
        a.lea(rsi, __[sseOk]);
        a.jmp(afterSse);
        a.Label(ref sseBad);
        a.lea(rsi, __[sseBadMsg]);
        a.Label(ref afterSse);
        a.call(print);

        // REP MOVSB a message into a buffer, then print the copy.
        a.lea(rsi, __[copied]);
        a.lea(rdi, __[buffer]);
        a.mov(ecx, 32);
        a.rep.movsb();
        a.lea(rsi, __[buffer]);
        a.call(print);

        a.ud2();                 // the handler reports it and resumes after the two-byte instruction
        a.lea(rsi, __[bye]);
        a.call(print);
        a.mov(al, 0);
        a.@out(0xF4, al);
        a.hlt();

        // print: RSI = NUL-terminated string, to COM1.
        a.Label(ref print);
        a.mov(dx, 0x3F8);
        var next = a.CreateLabel();
        var done = a.CreateLabel();
        a.Label(ref next);
        a.lodsb();
        a.test(al, al);
        a.jz(done);
        a.@out(dx, al);
        a.jmp(next);
        a.Label(ref done);
        a.ret();

        a.Label(ref udHandler);
        a.push(rsi);
        a.push(rdx);
        a.push(rax);
        a.lea(rsi, __[udMsg]);
        a.call(print);
        a.pop(rax);
        a.pop(rdx);
        a.pop(rsi);
        a.add(__qword_ptr[rsp], 2);
        a.iretq();

        static byte[] Z(string s) => Encoding.ASCII.GetBytes(s + "\0");
        a.Label(ref hello); a.db(Z("KhoEmu demo guest: long mode, paging and COM1 are up\n"));
        a.Label(ref sseOk); a.db(Z("SSE2 paddd: ok\n"));
        a.Label(ref sseBadMsg); a.db(Z("SSE2 paddd: WRONG\n"));
        a.Label(ref copied); a.db(Z("rep movsb copied this line: ok\n").Concat(new byte[8]).ToArray());
        a.Label(ref udMsg); a.db(Z("#UD delivered through the IDT: ok\n"));
        a.Label(ref bye); a.db(Z("demo finished, exiting through isa-debug-exit\n"));
        a.Label(ref vec);
        a.dd(1, 2, 3, 0x4000_0000);
        a.Label(ref vec2);
        a.dd(2, 4, 6, unchecked((int)0x8000_0000));
        a.Label(ref idtr); a.dw(16 * 32 - 1); a.dq(0);
        a.Label(ref idt); a.db(new byte[16 * 32]);
        a.Label(ref buffer); a.db(new byte[64]);
        return a;
    }
}
