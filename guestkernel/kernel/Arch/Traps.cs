using System.Runtime;
using KhoEmu.Kernel.Drivers;
using KhoEmu.Kernel.Proc;

using KhoEmu.Guest.Platform;
namespace KhoEmu.Kernel.Arch;

/// <summary>
/// Every interrupt, exception and SYSCALL arrives in <see cref="KernelTrap"/>. Faults in the safe-copy stub
/// resume at its fixup (EFAULT paths and self-test probes); faults from ring 3 end the process; anything else
/// is a kernel panic with the full register state.
/// </summary>
public static unsafe class Traps
{
    public const int TimerVector = 0x20, SpuriousVector = 0xFF, SyscallVector = 0x100;
    public static LinkInfo Link;
    public static ulong Ticks;
    public static ulong LastFaultVector, LastFaultAddress, LastFaultError, RecoveredFaults;

    private static readonly string[] Names =
    [
        "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow", "#BR bound range", "#UD invalid opcode",
        "#NM device not available", "#DF double fault", "coprocessor overrun", "#TS invalid TSS", "#NP segment not present",
        "#SS stack fault", "#GP general protection", "#PF page fault", "reserved", "#MF x87 error", "#AC alignment check",
        "#MC machine check", "#XM SIMD exception", "#VE virtualization", "#CP control protection",
    ];

    public static string ExceptionName(ulong vector) => vector < (ulong)Names.Length ? Names[(int)vector] : "exception";

    private static readonly nint[] s_handlers = new nint[256];

    /// <summary>Installs (or with null removes) the handler for device interrupt <paramref name="vector"/>; EOI follows it.</summary>
    public static void SetHandler(int vector, delegate*<void> handler) => s_handlers[vector] = (nint)handler;

    [RuntimeExport("KernelTrap")]
    private static TrapFrame* KernelTrap(TrapFrame* f)
    {
        ulong v = f->Vector;
        if (v == SyscallVector) return Syscalls.Dispatch(f);
        if (v == TimerVector)
        {
            Ticks++;
            LocalApic.EndOfInterrupt();
            return f;
        }
        if (v == SpuriousVector) return f;
        if (v >= 32)
        {
            if (v < 256 && s_handlers[(int)v] is var h && h != 0) ((delegate*<void>)h)();
            LocalApic.EndOfInterrupt();
            return f;
        }

        if (f->Rip == Link.CopySafeInsn)
        {
            // A fault inside khoemu_copy_safe: report it to the caller instead of crashing.
            LastFaultVector = v;
            LastFaultError = f->Error;
            LastFaultAddress = v == 14 ? Native.ReadCr2() : 0;
            RecoveredFaults++;
            f->Rip = Link.CopySafeFixup;
            return f;
        }
        if ((f->Cs & 3) == 3)
        {
            Console.Write("init: killed by ");
            Console.Write(ExceptionName(v));
            Console.Write(" at rip ");
            Console.WriteHex(f->Rip);
            if (v == 14) { Console.Write(" address "); Console.WriteHex(Native.ReadCr2()); }
            Console.Write('\n');
            Process.Exit(128 + (long)v);
        }
        Panic(f);
        return f;
    }

    private static void Panic(TrapFrame* f)
    {
        ulong v = f->Vector;
        Console.Write("\nkernel panic: unexpected ");
        Console.Write(ExceptionName(v));
        Console.Write(" (vector ");
        Console.WriteDec(v);
        Console.Write(", error code ");
        Console.WriteHex(f->Error);
        Console.Write(")\n  rip ");
        Console.WriteHex(f->Rip);
        Console.Write("  cs ");
        Console.WriteHex(f->Cs);
        Console.Write("  rflags ");
        Console.WriteHex(f->Rflags);
        Console.Write("\n  cr2 ");
        Console.WriteHex(Native.ReadCr2());
        Console.Write("  cr3 ");
        Console.WriteHex(Native.ReadCr3());
        Console.Write("  rsp ");
        Console.WriteHex(f->Rsp);
        Reg("\n  rax ", f->Rax); Reg("  rbx ", f->Rbx); Reg("  rcx ", f->Rcx); Reg("  rdx ", f->Rdx);
        Reg("\n  rsi ", f->Rsi); Reg("  rdi ", f->Rdi); Reg("  rbp ", f->Rbp); Reg("  r8  ", f->R8);
        Reg("\n  r9  ", f->R9); Reg("  r10 ", f->R10); Reg("  r11 ", f->R11); Reg("  r12 ", f->R12);
        Reg("\n  r13 ", f->R13); Reg("  r14 ", f->R14); Reg("  r15 ", f->R15);
        Console.Write('\n');
        Kernel.Shutdown(0x7F);
    }

    private static void Reg(string name, ulong value)
    {
        Console.Write(name);
        Console.WriteHex(value);
    }

    /// <summary>Reads 8 bytes at <paramref name="va"/> through the safe-copy stub: false (and the fault recorded) if it faults.</summary>
    public static bool Probe(ulong va, out ulong value)
    {
        ulong v = 0;
        bool ok = Native.CopySafe(&v, (void*)va, 8) == 0;
        value = v;
        return ok;
    }
}
