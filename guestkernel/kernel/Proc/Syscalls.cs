using KhoEmu.Kernel.Arch;
using KhoEmu.Kernel.Drivers;

using KhoEmu.Guest.Platform;
namespace KhoEmu.Kernel.Proc;

/// <summary>Linux-numbered system calls (x86-64 ABI: rax = number, rdi rsi rdx r10 r8 r9; result in rax, -errno).</summary>
public static unsafe class Syscalls
{
    public const long Read = 0, Write = 1, Close = 3, Getpid = 39, Exit = 60, ExitGroup = 231;
    public const long EBADF = 9, EFAULT = 14, EINVAL = 22, ENOSYS = 38;

    public static TrapFrame* Dispatch(TrapFrame* f)
    {
        Process.SyscallCount++;
        if ((f->Cs & 3) == 3) Process.SyscallsFromRing3++;
        long result;
        switch ((long)f->Rax)
        {
            case Write: result = DoWrite((int)f->Rdi, f->Rsi, f->Rdx); break;
            case Getpid: result = 1; break;
            case Exit:
            case ExitGroup:
                Process.Exit((long)(int)f->Rdi);
                result = 0;
                break;
            default: result = -ENOSYS; break;
        }
        f->Rax = (ulong)result;
        return f;
    }

    /// <summary>Copies user memory in; -EFAULT when any byte is not mapped for the process.</summary>
    public static long CopyFromUser(void* dst, ulong userSrc, ulong n)
    {
        if (userSrc >= Process.UserTop || n > Process.UserTop - userSrc) return -EFAULT;
        return Native.CopySafe(dst, (void*)userSrc, n) == 0 ? 0 : -EFAULT;
    }

    private static long DoWrite(int fd, ulong buf, ulong count)
    {
        if (fd != 1 && fd != 2) return -EBADF;
        byte* chunk = stackalloc byte[256];
        ulong done = 0;
        while (done < count)
        {
            ulong n = count - done < 256 ? count - done : 256;
            if (CopyFromUser(chunk, buf + done, n) != 0) return done > 0 ? (long)done : -EFAULT;
            for (ulong i = 0; i < n; i++) Console.Write((char)chunk[i]);
            done += n;
        }
        Process.BytesWritten += done;
        return (long)done;
    }
}
