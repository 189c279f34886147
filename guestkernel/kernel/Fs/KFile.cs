using KhoEmu.Guest.Platform;
using KhoEmu.Kernel.Proc;

namespace KhoEmu.Kernel.Fs;

/// <summary>
/// An open file. Kinds override what they support; the defaults are Linux's answers for files that do not.
/// User buffers are user virtual addresses, copied through <see cref="UserMemory"/>.
/// </summary>
public abstract class KFile
{
    public int References = 1;
    public virtual long Read(ulong buf, ulong count) => -Errno.EINVAL;
    public virtual long Write(ulong buf, ulong count) => -Errno.EINVAL;
    public virtual long Seek(long offset, int whence) => -Errno.ESPIPE;
    public virtual long Truncate(ulong size) => -Errno.EINVAL;
    public virtual long Ioctl(uint request, ulong arg) => -Errno.ENOTTY;
    /// <summary>The last descriptor for the file was closed.</summary>
    public virtual void Release() { }
}

/// <summary>Copies between kernel memory and the current process, turning faults into -EFAULT.</summary>
public static unsafe class UserMemory
{
    private static bool InUserRange(ulong addr, ulong n) => addr < Process.UserTop && n <= Process.UserTop - addr;

    public static long CopyFrom(void* dst, ulong user, ulong n)
    {
        if (n == 0) return 0;
        if (!InUserRange(user, n)) return -Errno.EFAULT;
        return Native.CopySafe(dst, (void*)user, n) == 0 ? 0 : -Errno.EFAULT;
    }

    public static long CopyTo(ulong user, void* src, ulong n)
    {
        if (n == 0) return 0;
        if (!InUserRange(user, n)) return -Errno.EFAULT;
        return Native.CopySafe((void*)user, src, n) == 0 ? 0 : -Errno.EFAULT;
    }

    /// <summary>Copies a NUL-terminated user string of at most <paramref name="max"/> bytes; its length or -errno.</summary>
    public static long CopyString(byte* dst, ulong user, int max)
    {
        for (int i = 0; i < max; i++)
        {
            if (CopyFrom(dst + i, user + (ulong)i, 1) != 0) return -Errno.EFAULT;
            if (dst[i] == 0) return i;
        }
        return -Errno.ENAMETOOLONG;
    }
}

/// <summary>The process's descriptor table.</summary>
public static class FdTable
{
    public const int Max = 256;
    private static readonly KFile?[] s_files = new KFile?[Max];

    public static int Install(KFile f)
    {
        for (int fd = 0; fd < Max; fd++)
        {
            if (s_files[fd] == null)
            {
                s_files[fd] = f;
                return fd;
            }
        }
        return (int)-Errno.EMFILE;
    }

    public static KFile? Get(long fd) => fd >= 0 && fd < Max ? s_files[(int)fd] : null;

    public static long Close(long fd)
    {
        var f = Get(fd);
        if (f == null) return -Errno.EBADF;
        s_files[(int)fd] = null;
        if (--f.References == 0) f.Release();
        return 0;
    }

    /// <summary>Closes every descriptor (process exit).</summary>
    public static void CloseAll()
    {
        for (int fd = 0; fd < Max; fd++)
            if (s_files[fd] != null) Close(fd);
    }
}
