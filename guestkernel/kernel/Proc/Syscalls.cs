using KhoEmu.Guest.Platform;
using KhoEmu.Kernel.Arch;
using KhoEmu.Kernel.Fs;
using KhoEmu.Kernel.Kho;

namespace KhoEmu.Kernel.Proc;

/// <summary>Linux-numbered system calls (x86-64 ABI: rax = number, rdi rsi rdx r10 r8 r9; result in rax, -errno).</summary>
public static unsafe class Syscalls
{
    public const long Read = 0, Write = 1, Open = 2, Close = 3, Lseek = 8, Ioctl = 16, Getpid = 39, Exit = 60,
        Ftruncate = 77, Pread64 = 17, Pwrite64 = 18, Reboot = 169, ExitGroup = 231, Openat = 257, MemfdCreate = 319, KexecFileLoad = 320;
    public const uint RebootMagic1 = 0xFEE1_DEAD, RebootMagic2 = 672274793, CmdKexec = 0x4558_4543, CmdPowerOff = 0x4321_FEDC;

    public static TrapFrame* Dispatch(TrapFrame* f)
    {
        Process.SyscallCount++;
        if ((f->Cs & 3) == 3) Process.SyscallsFromRing3++;
        ulong a0 = f->Rdi, a1 = f->Rsi, a2 = f->Rdx, a3 = f->R10;
        long result;
        switch ((long)f->Rax)
        {
            case Read: result = FdTable.Get((long)a0) is { } rf ? rf.Read(a1, a2) : -Errno.EBADF; break;
            case Write:
                result = FdTable.Get((long)a0) is { } wf ? wf.Write(a1, a2) : -Errno.EBADF;
                if (result > 0) Process.BytesWritten += (ulong)result;
                break;
            case Open: result = DoOpen(a0); break;
            case Openat: result = DoOpen(a1); break;
            case Close: result = FdTable.Close((long)a0); break;
            case Lseek: result = FdTable.Get((long)a0) is { } sf ? sf.Seek((long)a1, (int)a2) : -Errno.EBADF; break;
            case Ioctl: result = FdTable.Get((long)a0) is { } io ? io.Ioctl((uint)a1, a2) : -Errno.EBADF; break;
            case Ftruncate: result = FdTable.Get((long)a0) is { } tf ? ((long)a1 < 0 ? -Errno.EINVAL : tf.Truncate(a1)) : -Errno.EBADF; break;
            case Pread64:
            case Pwrite64:
                result = FdTable.Get((long)a0) is Vfio.VfioDeviceFile vf ? vf.Access(a1, a2, a3, f->Rax == Pwrite64)
                    : FdTable.Get((long)a0) == null ? -Errno.EBADF : -Errno.ESPIPE;
                break;
            case Getpid: result = 1; break;
            case MemfdCreate: result = DoMemfdCreate(a0, a1); break;
            case KexecFileLoad: result = DoKexecFileLoad((long)a0, (long)a1, a2, a3, f->R8); break;
            case Reboot: result = DoReboot((uint)a0, (uint)a1, (uint)a2); break;
            case Exit:
            case ExitGroup:
                Process.Exit((long)(int)a0);
                result = 0;
                break;
            default: result = -Errno.ENOSYS; break;
        }
        f->Rax = (ulong)result;
        return f;
    }

    private static long DoOpen(ulong userPath)
    {
        byte* path = stackalloc byte[256];
        long len = UserMemory.CopyString(path, userPath, 256);
        if (len < 0) return len;
        return Vfs.Open(path, (int)len);
    }

    private static long DoMemfdCreate(ulong userName, ulong flags)
    {
        byte* name = stackalloc byte[256];
        long len = UserMemory.CopyString(name, userName, 250);
        if (len < 0) return len;
        if ((flags & ~0x7UL) != 0) return -Errno.EINVAL;   // MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB
        return FdTable.Install(new MemFd());
    }

    private static long DoKexecFileLoad(long kernelFd, long initrdFd, ulong cmdlineLen, ulong cmdline, ulong flags)
    {
        const ulong NoInitramfs = 4, Unload = 1;
        if ((flags & Unload) != 0) return -Errno.EINVAL;
        if ((flags & NoInitramfs) == 0 && initrdFd >= 0) return -Errno.EINVAL;   // initramfs is not supported
        if (FdTable.Get(kernelFd) is not BufferFile image) return -Errno.EBADF;
        if (cmdlineLen > 2048) return -Errno.EINVAL;
        byte* cmd = stackalloc byte[2048];
        if (cmdlineLen > 0 && UserMemory.CopyFrom(cmd, cmdline, cmdlineLen) != 0) return -Errno.EFAULT;
        int n = (int)cmdlineLen;
        while (n > 0 && cmd[n - 1] == 0) n--;
        return Kexec.Load(image, cmd, n);
    }

    private static long DoReboot(uint magic1, uint magic2, uint cmd)
    {
        if (magic1 != RebootMagic1 || magic2 != RebootMagic2) return -Errno.EINVAL;
        if (cmd == CmdKexec) return Kexec.Execute();
        if (cmd == CmdPowerOff) Kernel.Shutdown(0);
        return -Errno.EINVAL;
    }

    /// <summary>Copies user memory in; -EFAULT when any byte is not mapped for the process.</summary>
    public static long CopyFromUser(void* dst, ulong userSrc, ulong n) => UserMemory.CopyFrom(dst, userSrc, n);
}
