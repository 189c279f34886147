using System.Runtime;
using System.Runtime.CompilerServices;
using Internal.Runtime;
using Internal.Runtime.CompilerHelpers;

namespace KhoEmu.Init;

/// <summary>Linux system calls by number, through the khoemu_syscall stub.</summary>
public static unsafe class Sys
{
    [RuntimeImport("*", "khoemu_syscall")]
    [MethodImpl(MethodImplOptions.InternalCall)]
    public static extern long Call(long nr, long a1, long a2, long a3, long a4, long a5);

    [RuntimeImport("*", "khoemu_link_info")]
    [MethodImpl(MethodImplOptions.InternalCall)]
    public static extern void LinkInfo(ulong* info);

    public const long Write = 1, Getpid = 39, ExitGroup = 231;

    public static long WriteString(int fd, string s)
    {
        // UTF-16 to ASCII on the stack, in chunks.
        byte* buf = stackalloc byte[128];
        long total = 0;
        for (int start = 0; start < s.Length; start += 128)
        {
            int n = s.Length - start < 128 ? s.Length - start : 128;
            for (int i = 0; i < n; i++) buf[i] = (byte)s[start + i];
            long r = Call(Write, fd, (long)buf, n, 0, 0);
            if (r < 0) return r;
            total += r;
        }
        return total;
    }
}

/// <summary>The first ring-3 program: greets through write(2) and exits.</summary>
public static unsafe class Program
{
    [RuntimeExport("UserMain")]
    private static int UserMain()
    {
        ulong* info = stackalloc ulong[6];
        Sys.LinkInfo(info);
        Heap.AddRegion((void*)info[4], (nuint)info[5]);
        StartupCodeHelpers.InitializeModules((void**)info[0], (void**)info[1]);

        if (Sys.WriteString(1, "init: hello from ring 3 (pid ") < 0) return 1;
        long pid = Sys.Call(Sys.Getpid, 0, 0, 0, 0, 0);
        byte* digit = stackalloc byte[2];
        digit[0] = (byte)('0' + pid % 10);
        digit[1] = (byte)')';
        Sys.Call(Sys.Write, 1, (long)digit, 2, 0, 0);
        Sys.WriteString(1, "\n");
        // A bad pointer must come back as -EFAULT, not crash anything.
        long r = Sys.Call(Sys.Write, 1, 0x10, 4, 0, 0);
        return r == -14 ? 0 : 2;
    }
}
