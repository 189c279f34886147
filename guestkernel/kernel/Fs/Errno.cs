namespace KhoEmu.Kernel.Fs;

/// <summary>Linux errno values (returned negated from system calls).</summary>
public static class Errno
{
    public const long EPERM = 1, ENOENT = 2, EAGAIN = 11, EIO = 5, E2BIG = 7, ENOEXEC = 8, EBADF = 9, ENOMEM = 12, EFAULT = 14,
        EBUSY = 16, EEXIST = 17, ENODEV = 19, EINVAL = 22, EMFILE = 24, ENOTTY = 25, EFBIG = 27, ENOSPC = 28,
        ESPIPE = 29, ERANGE = 34, ENOSYS = 38, ENAMETOOLONG = 36, EOVERFLOW = 75;
}
