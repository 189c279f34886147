using System.Runtime;
using System.Runtime.CompilerServices;

namespace KhoEmu.Init;

/// <summary>Linux system calls by number, through the khoemu_syscall stub; results are -errno on failure.</summary>
public static unsafe class Sys
{
    [RuntimeImport("*", "khoemu_syscall")]
    [MethodImpl(MethodImplOptions.InternalCall)]
    public static extern long Call(long nr, long a1, long a2, long a3, long a4, long a5);

    [RuntimeImport("*", "khoemu_link_info")]
    [MethodImpl(MethodImplOptions.InternalCall)]
    public static extern void LinkInfo(ulong* info);

    public const long NrRead = 0, NrWrite = 1, NrOpen = 2, NrClose = 3, NrLseek = 8, NrIoctl = 16, NrGetpid = 39,
        NrFtruncate = 77, NrReboot = 169, NrExitGroup = 231, NrMemfdCreate = 319, NrKexecFileLoad = 320;
    public const long EPERM = 1, ENOENT = 2, EIO = 5, E2BIG = 7, EBADF = 9, EFAULT = 14, EBUSY = 16, EEXIST = 17,
        EINVAL = 22, ENOSPC = 28, ENOTTY = 25, EAGAIN = 11;

    public static long Read(long fd, void* buf, long n) => Call(NrRead, fd, (long)buf, n, 0, 0);
    public static long Write(long fd, void* buf, long n) => Call(NrWrite, fd, (long)buf, n, 0, 0);
    public static long Close(long fd) => Call(NrClose, fd, 0, 0, 0, 0);

    /// <summary>Reads a decimal number from a sysfs/debugfs file (a negative errno when it cannot be opened).</summary>
    public static long ReadNumber(string path)
    {
        long fd = Open(path);
        if (fd < 0) return fd;
        byte* b = stackalloc byte[32];
        long n = Read(fd, b, 32);
        Close(fd);
        long v = 0;
        for (long i = 0; i < n && b[i] >= '0' && b[i] <= '9'; i++) v = v * 10 + (b[i] - '0');
        return v;
    }
    public static long Lseek(long fd, long off, int whence) => Call(NrLseek, fd, off, whence, 0, 0);
    public static long Ioctl(long fd, uint request, void* arg) => Call(NrIoctl, fd, request, (long)arg, 0, 0);
    public static long Ftruncate(long fd, long size) => Call(NrFtruncate, fd, size, 0, 0, 0);

    /// <summary>open(2) of a path given as a string literal (ASCII).</summary>
    public static long Open(string path)
    {
        byte* p = stackalloc byte[256];
        int n = path.Length < 255 ? path.Length : 255;
        for (int i = 0; i < n; i++) p[i] = (byte)path[i];
        p[n] = 0;
        return Call(NrOpen, (long)p, 0, 0, 0, 0);
    }

    public static long MemfdCreate(string name)
    {
        byte* p = stackalloc byte[64];
        int n = name.Length < 63 ? name.Length : 63;
        for (int i = 0; i < n; i++) p[i] = (byte)name[i];
        p[n] = 0;
        return Call(NrMemfdCreate, (long)p, 0, 0, 0, 0);
    }

    public static long KexecFileLoad(long kernelFd, byte* cmdline, long length) =>
        Call(NrKexecFileLoad, kernelFd, -1, length, (long)cmdline, 4 /* KEXEC_FILE_NO_INITRAMFS */);

    public static long RebootKexec() => Call(NrReboot, 0xFEE1DEAD, 672274793, 0x45584543, 0, 0);

    public static long WriteString(long fd, string s)
    {
        byte* buf = stackalloc byte[128];
        long total = 0;
        for (int start = 0; start < s.Length; start += 128)
        {
            int n = s.Length - start < 128 ? s.Length - start : 128;
            for (int i = 0; i < n; i++) buf[i] = (byte)s[start + i];
            long r = Write(fd, buf, n);
            if (r < 0) return r;
            total += r;
        }
        return total;
    }
}

/// <summary>Console output for ring 3 (stdout).</summary>
public static unsafe class Out
{
    public static void Str(string s) => Sys.WriteString(1, s);

    public static void Dec(long v)
    {
        byte* b = stackalloc byte[24];
        int n = 0;
        bool neg = v < 0;
        ulong u = neg ? (ulong)(-(v + 1)) + 1 : (ulong)v;
        do { b[23 - n++] = (byte)('0' + (int)(u % 10)); u /= 10; } while (u != 0);
        if (neg) b[23 - n++] = (byte)'-';
        Sys.Write(1, b + 24 - n, n);
    }

    public static void Hex(ulong v)
    {
        byte* b = stackalloc byte[18];
        b[0] = (byte)'0';
        b[1] = (byte)'x';
        for (int i = 0; i < 16; i++) b[2 + i] = (byte)"0123456789abcdef"[(int)((v >> (60 - 4 * i)) & 15)];
        Sys.Write(1, b, 18);
    }

    public static void Line(string s)
    {
        Str(s);
        Str("\n");
    }
}

/// <summary>KTAP results from ring 3; numbering may continue across a kexec (the state session carries it).</summary>
public static class Ktap
{
    public static int Number, Failed;

    public static void Plan(int count)
    {
        Out.Line("KTAP version 1");
        Out.Str("1..");
        Out.Dec(count);
        Out.Str("\n");
    }

    /// <summary>Counts one result and prints "ok N name" or "not ok N name" (the caller ends the line).</summary>
    private static void Begin(bool ok, string name)
    {
        Number++;
        if (!ok) Failed++;
        Out.Str(ok ? "ok " : "not ok ");
        Out.Dec(Number);
        Out.Str(" ");
        Out.Str(name);
    }

    public static bool Check(bool ok, string name, string reason)
    {
        Begin(ok, name);
        if (!ok)
        {
            Out.Str(" # ");
            Out.Str(reason);
        }
        Out.Str("\n");
        return ok;
    }

    /// <summary>Checks that a call returned <paramref name="expected"/> (0 or -errno), reporting the actual value.</summary>
    public static bool Expect(long actual, long expected, string name)
    {
        bool ok = actual == expected;
        Begin(ok, name);
        if (!ok)
        {
            Out.Str(" # expected ");
            Out.Dec(expected);
            Out.Str(", got ");
            Out.Dec(actual);
        }
        Out.Str("\n");
        return ok;
    }

    public static void Skip(string name, string reason)
    {
        Begin(true, name);
        Out.Str(" # SKIP ");
        Out.Line(reason);
    }

    public static void Note(string s)
    {
        Out.Str("# ");
        Out.Line(s);
    }
}
