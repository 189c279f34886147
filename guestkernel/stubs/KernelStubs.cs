using Iced.Intel;
using KhoEmu.Elf;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.GuestStubs;

/// <summary>
/// The kernel's architecture stubs. The PVH entry (32-bit protected mode, paging off, EBX = hvm_start_info) is
/// position independent: it finds where the image was loaded, maps the image at its link address in the top 2 GiB
/// (2 MiB pages, so the load address must be 2 MiB aligned) plus an identity and a direct map of the low 4 GiB,
/// enables PAE, long mode, NX and SSE, and jumps to <c>KernelEntry(startInfoPhys, imagePhys)</c> on the boot stack.
/// Also: interrupt and syscall entry building one frame layout, and the return-to-frame path into ring 3.
/// </summary>
public static class KernelStubs
{
    // Fixed layout of the .boot section (its start is the image start; offsets are shared with the 32-bit code).
    private const int SlotBootStart = 0x00, SlotImageEnd = 0x08, SlotPml4 = 0x10, SlotPdptLow = 0x18, SlotPdLow = 0x20,
        SlotPdptHigh = 0x28, SlotPdHigh = 0x30, SlotStackTop = 0x38, SlotHighEntry = 0x40, BootGdt = 0x50, BootGdtr = 0x68,
        Entry32 = 0x100, Entry64 = 0x400;
    public const ulong DirectMapBase = 0xFFFF_8880_0000_0000;
    private const int BootStackSize = 64 * 1024;
    private const int TablesSize = 4096 * 8; // pml4, pdpt low, 4 x pd low, pdpt high, pd high

    public static void Add(StubObject o)
    {
        CommonStubs.AddPrivileged(o);
        var boot = o.Section(".boot", ElfObjectWriter.ShfAlloc | ElfObjectWriter.ShfExecInstr | ElfObjectWriter.ShfWrite, 4096);
        var bss = o.Bss(".boot.bss", TablesSize + BootStackSize, 4096);
        o.Define("khoemu_boot_tables", bss, 0, TablesSize, global: false);
        o.Define("khoemu_boot_stack_top", bss, TablesSize + BootStackSize, 0, global: true);

        // Header: slots (VMAs filled by ld), then a GDT for the switch.
        var header = new byte[Entry32];
        BitConverter.GetBytes(0x00AF_9A00_0000_FFFFUL).CopyTo(header, BootGdt + 8);
        BitConverter.GetBytes(0x00CF_9200_0000_FFFFUL).CopyTo(header, BootGdt + 16);
        o.Bytes(boot, header);
        o.Define("khoemu_boot_start", boot, 0, global: false);
        o.Relocate(boot, SlotBootStart, "khoemu_boot_start", ElfObjectWriter.RX86_64_64);
        o.Relocate(boot, SlotImageEnd, "__image_end", ElfObjectWriter.RX86_64_64);
        o.Relocate(boot, SlotPml4, "khoemu_boot_tables", ElfObjectWriter.RX86_64_64, 0);
        o.Relocate(boot, SlotPdptLow, "khoemu_boot_tables", ElfObjectWriter.RX86_64_64, 0x1000);
        o.Relocate(boot, SlotPdLow, "khoemu_boot_tables", ElfObjectWriter.RX86_64_64, 0x2000);
        o.Relocate(boot, SlotPdptHigh, "khoemu_boot_tables", ElfObjectWriter.RX86_64_64, 0x6000);
        o.Relocate(boot, SlotPdHigh, "khoemu_boot_tables", ElfObjectWriter.RX86_64_64, 0x7000);
        o.Relocate(boot, SlotStackTop, "khoemu_boot_stack_top", ElfObjectWriter.RX86_64_64);
        o.Relocate(boot, SlotHighEntry, "khoemu_boot_high", ElfObjectWriter.RX86_64_64);

        Boot32(o, boot);
        o.Align(boot, Entry64);
        Boot64Low(o, boot);

        // PVH note: desc = physical address of the 32-bit entry (a linker-script symbol: load address + 0x100).
        var note = o.Note(".note.pvh");
        var n = new byte[24];
        BitConverter.GetBytes(4u).CopyTo(n, 0);
        BitConverter.GetBytes(8u).CopyTo(n, 4);
        BitConverter.GetBytes(18u).CopyTo(n, 8);
        "Xen\0"u8.CopyTo(n.AsSpan(12));
        o.Bytes(note, n);
        o.Relocate(note, 16, "khoemu_pvh_entry_phys", ElfObjectWriter.RX86_64_64);

        HighEntry(o);
        InterruptEntry(o);
        KexecStubs(o);
    }

    /// <summary>Layout of the kexec trampoline template (copied to a scratch page P by the kernel).</summary>
    public const int KexecCode32 = 0x100, KexecGdt = 0x180, KexecGdtr = 0x1C0, KexecTemplateSize = 0x200;

    /// <summary>
    /// khoemu_kexec_jump(P, pml4, entry, startInfo): switch to page tables that identity-map the low 4 GiB (and keep
    /// the kernel half), then jump to the trampoline copy at P. The trampoline loads its own GDT (base P + 0x180,
    /// written by the kernel), far-returns into 32-bit code, turns paging, long mode and PAE off and enters the new
    /// kernel's PVH entry with EBX = start info, as a boot loader would. Nothing is copied after the jump.
    /// </summary>
    private static void KexecStubs(StubObject o)
    {
        var c = o.Code(o.Text);
        var a = c.A;
        c.Export("khoemu_kexec_jump");
        a.cli();
        a.mov(cr3, rsi);
        a.jmp(rdi);
        c.Export("khoemu_kexec_template");
        a.mov(rax, __qword_ptr[c.Slot("khoemu_kexec_template_start")]);
        a.ret();
        c.Emit();

        var tpl = o.Section(".text.kexec", ElfObjectWriter.ShfAlloc | ElfObjectWriter.ShfExecInstr, 4096);
        var c64 = o.Code(tpl);
        var b = c64.A;
        c64.Export("khoemu_kexec_template_start", global: false);
        b.lgdt(__[rdi + KexecGdtr]);
        b.mov(ebp, edx);                       // entry
        b.mov(ebx, ecx);                       // start info
        b.push(0x18);                          // 32-bit code selector of the trampoline GDT
        b.lea(rax, __[rdi + KexecCode32]);
        b.push(rax);
        b.db(0x48, 0xCB);                      // retfq
        c64.Emit();
        o.Align(tpl, KexecCode32);
        var c32 = o.Code(tpl, 32);
        var d = c32.A;
        d.mov(eax, 0x10);
        d.mov(ds, ax); d.mov(es, ax); d.mov(ss, ax); d.mov(fs, ax); d.mov(gs, ax);
        d.mov(eax, cr0);
        d.and(eax, 0x7FFF_FFFF);
        d.mov(cr0, eax);
        d.mov(ecx, 0xC000_0080);
        d.rdmsr();
        d.and(eax, ~0x100);
        d.wrmsr();
        d.mov(eax, cr4);
        d.and(eax, ~0x20);
        d.mov(cr4, eax);
        d.xor(eax, eax);
        d.mov(cr3, eax);
        d.jmp(ebp);
        c32.Emit();
        o.Align(tpl, KexecGdt);
        var gdt = new byte[KexecTemplateSize - KexecGdt];
        BitConverter.GetBytes(0x00AF_9A00_0000_FFFFUL).CopyTo(gdt, 0x08);
        BitConverter.GetBytes(0x00CF_9200_0000_FFFFUL).CopyTo(gdt, 0x10);
        BitConverter.GetBytes(0x00CF_9A00_0000_FFFFUL).CopyTo(gdt, 0x18);
        o.Bytes(tpl, gdt);
    }

    /// <summary>Address of a slot's target, physical: ebp + (slot - boot start), using the low 32 bits.</summary>
    private static void PhysOf(Assembler a, AssemblerRegister32 dst, int slot)
    {
        a.mov(dst, __dword_ptr[ebp + slot]);
        a.sub(dst, __dword_ptr[ebp + SlotBootStart]);
        a.add(dst, ebp);
    }

    private static void Boot32(StubObject o, ElfObjectWriter.Section boot)
    {
        var c = o.Code(boot, 32);
        var a = c.A;
        c.Export("khoemu_pvh_entry");
        // No stack is promised at the PVH entry. Borrow the start info's trailing reserved u32 (offset 52) as a
        // one-slot stack for call/pop, then clear it again.
        var next = a.CreateLabel();
        a.lea(esp, __[ebx + 56]);              // 3 bytes
        a.call(next);                          // 5 bytes at 0x103: the pushed address is boot + 0x108
        a.Label(ref next);
        a.pop(ebp);
        a.mov(__dword_ptr[ebx + 52], 0);
        a.sub(ebp, Entry32 + 8);               // ebp = physical address of .boot = image start
        a.cli();
        a.cld();
        a.mov(esi, ebx);                       // start info, kept in esi until the 64-bit jump
        PhysOf(a, esp, SlotStackTop);          // from here on, the boot stack (physical address)

        // Zero the tables.
        PhysOf(a, edi, SlotPml4);
        a.mov(ecx, TablesSize / 4);
        a.xor(eax, eax);
        a.rep.stosd();

        // PML4[0] and PML4[273] (direct map) -> PDPT low; PML4[511] -> PDPT high.
        PhysOf(a, edi, SlotPml4);
        PhysOf(a, eax, SlotPdptLow);
        a.or(eax, 3);
        a.mov(__dword_ptr[edi], eax);
        a.mov(__dword_ptr[edi + (int)((DirectMapBase >> 39) & 511) * 8], eax);
        PhysOf(a, eax, SlotPdptHigh);
        a.or(eax, 3);
        a.mov(__dword_ptr[edi + 511 * 8], eax);

        // PDPT low[0..3] -> the four PDs; PDs map 0..4 GiB with 2 MiB pages.
        PhysOf(a, edi, SlotPdptLow);
        PhysOf(a, eax, SlotPdLow);
        a.or(eax, 3);
        for (int i = 0; i < 4; i++)
        {
            a.mov(__dword_ptr[edi + i * 8], eax);
            a.add(eax, 0x1000);
        }
        PhysOf(a, edi, SlotPdLow);
        a.xor(ecx, ecx);
        var fillLow = a.CreateLabel();
        a.Label(ref fillLow);
        a.mov(eax, ecx);
        a.shl(eax, 21);
        a.or(eax, 0x83);
        a.mov(__dword_ptr[edi + ecx * 8], eax);
        a.mov(eax, ecx);
        a.shr(eax, 11);                        // bits 32+ of the frame: (ecx * 2 MiB) >> 32
        a.mov(__dword_ptr[edi + ecx * 8 + 4], eax);
        a.inc(ecx);
        a.cmp(ecx, 2048);
        a.jne(fillLow);

        // PDPT high[510] -> PD high; PD high[(vma >> 21) & 511 ...] -> the image, 2 MiB at a time.
        PhysOf(a, edi, SlotPdptHigh);
        PhysOf(a, eax, SlotPdHigh);
        a.or(eax, 3);
        a.mov(__dword_ptr[edi + 510 * 8], eax);
        PhysOf(a, edi, SlotPdHigh);
        a.mov(ecx, __dword_ptr[ebp + SlotBootStart]);
        a.shr(ecx, 21);
        a.and(ecx, 511);                       // first PD index
        a.mov(edx, __dword_ptr[ebp + SlotImageEnd]);
        a.sub(edx, __dword_ptr[ebp + SlotBootStart]);
        a.add(edx, (1 << 21) - 1);
        a.shr(edx, 21);                        // number of 2 MiB pages
        a.mov(eax, ebp);
        a.or(eax, 0x83);
        var fillHigh = a.CreateLabel();
        a.Label(ref fillHigh);
        a.mov(__dword_ptr[edi + ecx * 8], eax);
        a.add(eax, 1 << 21);
        a.inc(ecx);
        a.dec(edx);
        a.jnz(fillHigh);

        // CR4: PAE | OSFXSR | OSXMMEXCPT. CR3. EFER: LME, NXE when CPUID says so.
        a.mov(eax, cr4);
        a.or(eax, 0x620);
        a.mov(cr4, eax);
        PhysOf(a, eax, SlotPml4);
        a.mov(cr3, eax);
        a.mov(eax, 0x8000_0001);
        a.cpuid();
        a.xor(ebx, ebx);
        a.bt(edx, 20);
        a.adc(ebx, 0);
        a.shl(ebx, 11);                        // NXE if NX is supported
        a.or(ebx, 0x101);                      // LME | SCE
        a.mov(ecx, 0xC000_0080);
        a.rdmsr();
        a.or(eax, ebx);
        a.wrmsr();
        // CR0: PG | WP | NE | ET | MP | PE, EM and TS clear.
        a.mov(eax, cr0);
        a.and(eax, ~0xC);
        a.or(eax, unchecked((int)0x8001_0033));
        a.mov(cr0, eax);
        // GDT base is physical here.
        a.lea(eax, __[ebp + BootGdt]);
        a.mov(__word_ptr[ebp + BootGdtr], 23);
        a.mov(__dword_ptr[ebp + BootGdtr + 2], eax);
        a.lgdt(__[ebp + BootGdtr]);
        a.push(0x08);
        a.lea(eax, __[ebp + Entry64]);
        a.push(eax);
        a.retf();
        c.Emit();
    }

    private static void Boot64Low(StubObject o, ElfObjectWriter.Section boot)
    {
        var c = o.Code(boot);
        var a = c.A;
        a.mov(eax, 0x10);
        a.mov(ds, ax); a.mov(es, ax); a.mov(ss, ax);
        a.xor(eax, eax);
        a.mov(fs, ax); a.mov(gs, ax);
        a.mov(ebp, ebp);                       // zero-extend: upper halves are undefined after the mode switch
        a.mov(esi, esi);
        a.mov(rsp, __qword_ptr[rbp + SlotStackTop]);
        a.mov(rax, __qword_ptr[rbp + SlotHighEntry]);
        a.mov(rdi, rsi);                       // KernelEntry(startInfoPhys, imagePhys)
        a.mov(rsi, rbp);
        a.jmp(rax);
        c.Emit();
    }

    private static void HighEntry(StubObject o)
    {
        var c = o.Code(o.Text);
        var a = c.A;
        c.Export("khoemu_boot_high");
        a.xor(ebp, ebp);
        a.call(__qword_ptr[c.Slot("KernelEntry")]);
        var hang = a.CreateLabel();
        a.Label(ref hang);
        a.cli();
        a.hlt();
        a.jmp(hang);
        c.Emit();
    }

    /// <summary>Vectors whose exceptions push an error code.</summary>
    private static bool HasErrorCode(int v) => v is 8 or 10 or 11 or 12 or 13 or 14 or 17 or 21 or 29 or 30;

    /// <summary>Frame "vector" value for a SYSCALL entry.</summary>
    public const int SyscallVector = 0x100;

    /// <summary>
    /// 256 interrupt stubs, 16 bytes apart from <c>khoemu_vector_stubs</c>, push a uniform frame (error code 0 when the
    /// CPU gives none, then the vector); SYSCALL builds the same frame on the kernel stack, with vector 0x100. The
    /// common path pushes the general registers, saves SSE state (FXSAVE) and calls
    /// <c>KernelTrap(frame*)</c>, which returns the frame to resume (the same one, or another: ring-3 entry).
    /// Frame, lowest address first: r15 r14 r13 r12 r11 r10 r9 r8 rbp rdi rsi rdx rcx rbx rax vector error rip cs
    /// rflags rsp ss. The return is always IRETQ.
    /// </summary>
    private static void InterruptEntry(StubObject o)
    {
        var c = o.Code(o.Text);
        var a = c.A;
        var common = a.CreateLabel();
        var restore = a.CreateLabel();
        var userRsp = a.CreateLabel();
        var kernelStack = a.CreateLabel();
        var trap = c.Slot("KernelTrap");
        var stubs = c.Export("khoemu_vector_stubs");
        // Fixed 16-byte stubs: raw push encodings and a near jump, padded with int3.
        a.PreferShortBranch = false;
        for (int v = 0; v < 256; v++)
        {
            if (!HasErrorCode(v)) a.db(0x6A, 0x00);                                    // push 0
            a.db(0x68, (byte)v, (byte)(v >> 8), 0, 0);                                 // push imm32 vector
            a.jmp(common);                                                             // e9 rel32
            for (int pad = HasErrorCode(v) ? 10 : 12; pad < 16; pad++) a.int3();
        }

        // SYSCALL: RCX = user RIP, R11 = user RFLAGS, RSP = user stack (IF masked by SFMASK). Single CPU, so the
        // user RSP parks in a variable while the kernel stack is loaded.
        c.Export("khoemu_syscall_entry");
        a.mov(__qword_ptr[userRsp], rsp);
        a.mov(rsp, __qword_ptr[kernelStack]);
        a.push(0x23);
        a.push(__qword_ptr[userRsp]);
        a.push(r11);
        a.push(0x2B);
        a.push(rcx);
        a.push(0);
        a.push(SyscallVector);

        a.Label(ref common);
        foreach (var r in new[] { rax, rbx, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15 }) a.push(r);
        a.cld();
        a.mov(rbx, rsp);
        a.sub(rsp, 512);
        a.and(rsp, -16);
        a.fxsave(__[rsp]);
        a.mov(rdi, rbx);
        a.call(__qword_ptr[trap]);
        a.fxrstor(__[rsp]);
        a.mov(rsp, rax);
        a.Label(ref restore);
        foreach (var r in new[] { r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax }) a.pop(r);
        a.add(rsp, 16);
        a.iretq();

        // khoemu_resume_frame(frame*): continue a frame built or kept by the kernel (first entry to ring 3).
        c.Export("khoemu_resume_frame");
        a.mov(rsp, rdi);
        a.jmp(restore);

        // khoemu_run_user(frame*): saves the kernel's callee-saved state, then resumes the (ring-3) frame. Returns
        // when the kernel calls khoemu_exit_user(value) from a trap handler, with that value.
        var savedRsp = a.CreateLabel();
        // Interrupts stay off from the stack switch to IRETQ: an interrupt taken on the frame would land on the
        // saved kernel state just below it. RFLAGS (IF) is restored on the way back.
        c.Export("khoemu_run_user");
        a.pushfq();
        foreach (var r in new[] { rbx, rbp, r12, r13, r14, r15 }) a.push(r);
        a.cli();
        a.mov(__qword_ptr[savedRsp], rsp);
        a.mov(rsp, rdi);
        a.jmp(restore);
        c.Export("khoemu_exit_user");
        a.cli();
        a.mov(rax, rdi);
        a.mov(rsp, __qword_ptr[savedRsp]);
        foreach (var r in new[] { r15, r14, r13, r12, rbp, rbx }) a.pop(r);
        a.popfq();
        a.ret();

        // khoemu_vector_stubs_base(): address of vector 0's stub (vector v is 16 * v bytes further).
        c.Export("khoemu_vector_stubs_base");
        a.lea(rax, __[stubs]);
        a.ret();

        // khoemu_set_syscall_stack(top): the stack SYSCALL switches to (the TSS RSP0 covers interrupts).
        c.Export("khoemu_set_syscall_stack");
        a.mov(__qword_ptr[kernelStack], rdi);
        a.ret();

        c.Export("khoemu_syscall_entry_address");
        a.mov(rax, __qword_ptr[c.Slot("khoemu_syscall_entry")]);
        a.ret();
        a.Label(ref userRsp);
        a.dq(0UL);
        a.Label(ref kernelStack);
        a.dq(0UL);
        a.Label(ref savedRsp);
        a.dq(0UL);
        c.Emit();
    }
}
