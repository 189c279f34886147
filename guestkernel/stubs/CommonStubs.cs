using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.GuestStubs;

/// <summary>
/// Leaf helpers every ring-0 image needs, each a SysV function (args rdi, rsi, rdx, rcx; result rax): port I/O,
/// control registers, MSRs, descriptor-table loads, CPUID, TSC, interrupt flag, the stack probe, and the data
/// symbols compiled code references.
/// </summary>
public static class CommonStubs
{
    public static void AddPrivileged(StubObject o)
    {
        var c = o.Code(o.Text);
        var a = c.A;
        void Fn(string name, Action body) { c.Export(name); body(); }

        Fn("khoemu_halt_forever", () => { var l = a.CreateLabel(); a.cli(); a.Label(ref l); a.hlt(); a.jmp(l); });
        Fn("khoemu_outb", () => { a.mov(edx, edi); a.mov(eax, esi); a.@out(dx, al); a.ret(); });
        Fn("khoemu_outw", () => { a.mov(edx, edi); a.mov(eax, esi); a.@out(dx, ax); a.ret(); });
        Fn("khoemu_outl", () => { a.mov(edx, edi); a.mov(eax, esi); a.@out(dx, eax); a.ret(); });
        Fn("khoemu_inb", () => { a.mov(edx, edi); a.xor(eax, eax); a.@in(al, dx); a.ret(); });
        Fn("khoemu_inw", () => { a.mov(edx, edi); a.xor(eax, eax); a.@in(ax, dx); a.ret(); });
        Fn("khoemu_inl", () => { a.mov(edx, edi); a.@in(eax, dx); a.ret(); });
        // MMIO: exactly one access of the named width (device registers reject narrower or split accesses).
        Fn("khoemu_mmio_read32", () => { a.mov(eax, __dword_ptr[rdi]); a.ret(); });
        Fn("khoemu_mmio_read64", () => { a.mov(rax, __qword_ptr[rdi]); a.ret(); });
        Fn("khoemu_mmio_write32", () => { a.mov(__dword_ptr[rdi], esi); a.ret(); });
        Fn("khoemu_mmio_write64", () => { a.mov(__qword_ptr[rdi], rsi); a.ret(); });
        Fn("khoemu_read_cr0", () => { a.mov(rax, cr0); a.ret(); });
        Fn("khoemu_read_cr2", () => { a.mov(rax, cr2); a.ret(); });
        Fn("khoemu_read_cr3", () => { a.mov(rax, cr3); a.ret(); });
        Fn("khoemu_read_cr4", () => { a.mov(rax, cr4); a.ret(); });
        Fn("khoemu_write_cr0", () => { a.mov(cr0, rdi); a.ret(); });
        Fn("khoemu_write_cr3", () => { a.mov(cr3, rdi); a.ret(); });
        Fn("khoemu_write_cr4", () => { a.mov(cr4, rdi); a.ret(); });
        Fn("khoemu_rdmsr", () => { a.mov(ecx, edi); a.rdmsr(); a.shl(rdx, 32); a.or(rax, rdx); a.ret(); });
        Fn("khoemu_wrmsr", () => { a.mov(ecx, edi); a.mov(rax, rsi); a.mov(rdx, rsi); a.shr(rdx, 32); a.wrmsr(); a.ret(); });
        Fn("khoemu_invlpg", () => { a.invlpg(__[rdi]); a.ret(); });
        Fn("khoemu_lgdt", () => { a.lgdt(__[rdi]); a.ret(); });
        Fn("khoemu_lidt", () => { a.lidt(__[rdi]); a.ret(); });
        Fn("khoemu_ltr", () => { a.ltr(di); a.ret(); });
        // khoemu_load_segments(code, data): reload CS with a far return and every data segment register.
        Fn("khoemu_load_segments", () =>
        {
            a.mov(eax, esi);
            a.mov(ds, ax); a.mov(es, ax); a.mov(ss, ax);
            a.xor(eax, eax);
            a.mov(fs, ax); a.mov(gs, ax);
            a.pop(rax);            // return address
            a.push(rdi);           // new CS
            a.push(rax);
            a.db(0x48, 0xCB);      // retfq: pops RIP then CS (64-bit operands)
        });
        // khoemu_cpuid(leaf, subleaf, uint* out4): eax, ebx, ecx, edx into out[0..3].
        Fn("khoemu_cpuid", () =>
        {
            a.push(rbx);
            a.mov(r8, rdx);
            a.mov(eax, edi); a.mov(ecx, esi);
            a.cpuid();
            a.mov(__dword_ptr[r8], eax); a.mov(__dword_ptr[r8 + 4], ebx);
            a.mov(__dword_ptr[r8 + 8], ecx); a.mov(__dword_ptr[r8 + 12], edx);
            a.pop(rbx);
            a.ret();
        });
        Fn("khoemu_rdtsc", () => { a.rdtsc(); a.shl(rdx, 32); a.or(rax, rdx); a.ret(); });
        Fn("khoemu_cli", () => { a.cli(); a.ret(); });
        Fn("khoemu_sti", () => { a.sti(); a.ret(); });
        // Atomically enable interrupts and wait for one (sti's shadow covers hlt), then disable them again.
        Fn("khoemu_wait_for_interrupt", () => { a.sti(); a.hlt(); a.cli(); a.ret(); });
        // Bulk memory: rep stosb / rep movsb (forward; callers do not overlap).
        Fn("khoemu_memzero", () => { a.mov(rcx, rsi); a.xor(eax, eax); a.rep.stosb(); a.ret(); });
        Fn("khoemu_memcopy", () => { a.mov(rcx, rdx); a.rep.movsb(); a.ret(); });
        Fn("khoemu_read_rflags", () => { a.pushfq(); a.pop(rax); a.ret(); });
        Fn("khoemu_read_rsp", () => { a.lea(rax, __[rsp + 8]); a.ret(); });
        AddStackProbe(c);
        AddSafeCopy(c);
        AddLinkInfo(c);
        c.Emit();
        AddDataSymbols(o);
        o.Bss(".bss.khoemu_early_heap", EarlyHeapSize, 4096);
        o.Define("khoemu_early_heap", o.Section(".bss.khoemu_early_heap", 0), 0, EarlyHeapSize, global: false);
    }

    /// <summary>Bytes of .bss the image uses as its first heap, before it knows the memory map.</summary>
    public const int EarlyHeapSize = 1 << 20;

    /// <summary>
    /// khoemu_copy_safe(dst, src, n): rep movsb that survives a page fault. Returns 0, or -1 when an access
    /// faulted: the trap handler sees RIP at <c>copy</c> (reported by the link info) and resumes at the fixup.
    /// This is how the kernel reads and writes user memory and probes addresses in self-tests.
    /// </summary>
    private static void AddSafeCopy(StubObject.Chunk c)
    {
        var a = c.A;
        c.Export("khoemu_copy_safe");
        a.mov(rcx, rdx);
        c.Export("khoemu_copy_safe_insn", global: false);
        a.rep.movsb();
        a.xor(eax, eax);
        a.ret();
        c.Export("khoemu_copy_safe_fixup", global: false);
        a.mov(rax, -1);
        a.ret();
    }

    /// <summary>
    /// khoemu_link_info(ulong* out): what managed code cannot name itself, in this order: __modules start and end,
    /// image start and end (link addresses), early heap address and size, copy-safe faulting RIP and fixup RIP.
    /// </summary>
    private static void AddLinkInfo(StubObject.Chunk c)
    {
        var a = c.A;
        c.Export("khoemu_link_info");
        var fields = new[] { "__modules_start", "__modules_end", "__image_start", "__image_end", "khoemu_early_heap",
            "", "khoemu_copy_safe_insn", "khoemu_copy_safe_fixup" };
        for (int i = 0; i < fields.Length; i++)
        {
            if (fields[i].Length == 0) a.mov(rax, (ulong)EarlyHeapSize);
            else a.mov(rax, __qword_ptr[c.Slot(fields[i])]);
            a.mov(__qword_ptr[rdi + i * 8], rax);
        }
        a.ret();
    }

    /// <summary>
    /// RhpStackProbe: compiled code calls it before touching a frame larger than a page, with RAX = the lowest
    /// address the frame will use. It touches every page from the current stack page down to that address, so a
    /// guard page below the stack faults in order.
    /// </summary>
    public static void AddStackProbe(StubObject.Chunk c)
    {
        var a = c.A;
        c.Export("RhpStackProbe");
        var loop = a.CreateLabel();
        a.mov(r11, rsp);
        a.and(r11, -4096);
        a.Label(ref loop);
        a.sub(r11, 4096);
        a.test(__dword_ptr[r11], eax);
        a.cmp(r11, rax);
        a.ja(loop);
        a.ret();
    }

    public static void AddDataSymbols(StubObject o)
    {
        var d = o.Data;
        o.Align(d, 8);
        o.Define("RhpTrapThreads", d, o.Offset(d), 4);
        o.Bytes(d, new byte[8]);
        o.Define("__security_cookie", d, o.Offset(d), 8);
        o.Bytes(d, BitConverter.GetBytes(0x2B992DDFA232UL));
    }
}
