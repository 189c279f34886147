using System.Runtime;
using System.Runtime.CompilerServices;

namespace KhoEmu.Guest.Platform;

/// <summary>The architecture stubs (guestkernel/stubs), called with the plain SysV convention.</summary>
public static unsafe class Native
{
    private const MethodImplOptions Call = MethodImplOptions.InternalCall;

    [RuntimeImport("*", "khoemu_outb")] [MethodImpl(Call)] public static extern void Outb(uint port, uint value);
    [RuntimeImport("*", "khoemu_outw")] [MethodImpl(Call)] public static extern void Outw(uint port, uint value);
    [RuntimeImport("*", "khoemu_outl")] [MethodImpl(Call)] public static extern void Outl(uint port, uint value);
    [RuntimeImport("*", "khoemu_inb")] [MethodImpl(Call)] public static extern uint Inb(uint port);
    [RuntimeImport("*", "khoemu_inw")] [MethodImpl(Call)] public static extern uint Inw(uint port);
    [RuntimeImport("*", "khoemu_inl")] [MethodImpl(Call)] public static extern uint Inl(uint port);
    [RuntimeImport("*", "khoemu_mmio_read32")] [MethodImpl(Call)] public static extern uint MmioRead32(void* register);
    [RuntimeImport("*", "khoemu_mmio_read64")] [MethodImpl(Call)] public static extern ulong MmioRead64(void* register);
    [RuntimeImport("*", "khoemu_mmio_write32")] [MethodImpl(Call)] public static extern void MmioWrite32(void* register, uint value);
    [RuntimeImport("*", "khoemu_mmio_write64")] [MethodImpl(Call)] public static extern void MmioWrite64(void* register, ulong value);
    [RuntimeImport("*", "khoemu_read_cr0")] [MethodImpl(Call)] public static extern ulong ReadCr0();
    [RuntimeImport("*", "khoemu_read_cr2")] [MethodImpl(Call)] public static extern ulong ReadCr2();
    [RuntimeImport("*", "khoemu_read_cr3")] [MethodImpl(Call)] public static extern ulong ReadCr3();
    [RuntimeImport("*", "khoemu_read_cr4")] [MethodImpl(Call)] public static extern ulong ReadCr4();
    [RuntimeImport("*", "khoemu_write_cr0")] [MethodImpl(Call)] public static extern void WriteCr0(ulong v);
    [RuntimeImport("*", "khoemu_write_cr3")] [MethodImpl(Call)] public static extern void WriteCr3(ulong v);
    [RuntimeImport("*", "khoemu_write_cr4")] [MethodImpl(Call)] public static extern void WriteCr4(ulong v);
    [RuntimeImport("*", "khoemu_rdmsr")] [MethodImpl(Call)] public static extern ulong Rdmsr(uint msr);
    [RuntimeImport("*", "khoemu_wrmsr")] [MethodImpl(Call)] public static extern void Wrmsr(uint msr, ulong value);
    [RuntimeImport("*", "khoemu_invlpg")] [MethodImpl(Call)] public static extern void Invlpg(ulong va);
    [RuntimeImport("*", "khoemu_lgdt")] [MethodImpl(Call)] public static extern void Lgdt(void* descriptor);
    [RuntimeImport("*", "khoemu_lidt")] [MethodImpl(Call)] public static extern void Lidt(void* descriptor);
    [RuntimeImport("*", "khoemu_ltr")] [MethodImpl(Call)] public static extern void Ltr(uint selector);
    [RuntimeImport("*", "khoemu_load_segments")] [MethodImpl(Call)] public static extern void LoadSegments(ulong code, ulong data);
    [RuntimeImport("*", "khoemu_cpuid")] [MethodImpl(Call)] public static extern void Cpuid(uint leaf, uint subleaf, uint* out4);
    [RuntimeImport("*", "khoemu_rdtsc")] [MethodImpl(Call)] public static extern ulong Rdtsc();
    [RuntimeImport("*", "khoemu_cli")] [MethodImpl(Call)] public static extern void Cli();
    [RuntimeImport("*", "khoemu_sti")] [MethodImpl(Call)] public static extern void Sti();
    [RuntimeImport("*", "khoemu_wait_for_interrupt")] [MethodImpl(Call)] public static extern void WaitForInterrupt();
    [RuntimeImport("*", "khoemu_read_rflags")] [MethodImpl(Call)] public static extern ulong ReadRflags();
    [RuntimeImport("*", "khoemu_halt_forever")] [MethodImpl(Call)] public static extern void HaltForever();
    [RuntimeImport("*", "khoemu_memzero")] [MethodImpl(Call)] public static extern void MemZero(void* dst, ulong n);
    [RuntimeImport("*", "khoemu_memcopy")] [MethodImpl(Call)] public static extern void MemCopy(void* dst, void* src, ulong n);
    [RuntimeImport("*", "khoemu_kexec_jump")] [MethodImpl(Call)] public static extern void KexecJump(ulong trampolinePhys, ulong pml4Phys, ulong entry, ulong startInfo);
    [RuntimeImport("*", "khoemu_kexec_template")] [MethodImpl(Call)] public static extern ulong KexecTemplate();
    [RuntimeImport("*", "khoemu_copy_safe")] [MethodImpl(Call)] public static extern long CopySafe(void* dst, void* src, ulong n);
    [RuntimeImport("*", "khoemu_link_info")] [MethodImpl(Call)] public static extern void LinkInfo(LinkInfo* info);
    [RuntimeImport("*", "khoemu_vector_stubs_base")] [MethodImpl(Call)] public static extern ulong VectorStubsBase();
    [RuntimeImport("*", "khoemu_syscall_entry_address")] [MethodImpl(Call)] public static extern ulong SyscallEntryAddress();
    [RuntimeImport("*", "khoemu_set_syscall_stack")] [MethodImpl(Call)] public static extern void SetSyscallStack(ulong top);
    [RuntimeImport("*", "khoemu_run_user")] [MethodImpl(Call)] public static extern long RunUser(TrapFrame* frame);
    [RuntimeImport("*", "khoemu_exit_user")] [MethodImpl(Call)] public static extern void ExitUser(long value);
}

/// <summary>Filled by khoemu_link_info: addresses only the linker knows.</summary>
public struct LinkInfo
{
    public ulong ModulesStart, ModulesEnd, ImageStart, ImageEnd, EarlyHeap, EarlyHeapSize, CopySafeInsn, CopySafeFixup;
}

/// <summary>The frame the interrupt and syscall stubs build (lowest address first).</summary>
public struct TrapFrame
{
    public ulong R15, R14, R13, R12, R11, R10, R9, R8, Rbp, Rdi, Rsi, Rdx, Rcx, Rbx, Rax;
    public ulong Vector, Error, Rip, Cs, Rflags, Rsp, Ss;
}
