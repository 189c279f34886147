namespace KhoEmu.Init;

/// <summary>The /dev/liveupdate uAPI (ioctl type 0xBA, size-prefixed structs), as ring 3 uses it.</summary>
public static unsafe class Luo
{
    public const uint CreateSession = 0xBA00, RetrieveSession = 0xBA01, PreserveFd = 0xBA40, RetrieveFd = 0xBA41, Finish = 0xBA42;

    /// <summary>CREATE_SESSION or RETRIEVE_SESSION: the session fd, or -errno.</summary>
    public static long Session(long dev, uint request, string name, uint size = 72)
    {
        byte* s = stackalloc byte[128];
        for (int i = 0; i < 128; i++) s[i] = 0;
        *(uint*)s = size;
        *(int*)(s + 4) = -1;
        for (int i = 0; i < name.Length && i < 63; i++) s[8 + i] = (byte)name[i];
        long r = Sys.Ioctl(dev, request, s);
        return r < 0 ? r : *(int*)(s + 4);
    }

    public static long Preserve(long session, long fd, ulong token, uint size = 16)
    {
        byte* s = stackalloc byte[32];
        for (int i = 0; i < 32; i++) s[i] = 0;
        *(uint*)s = size;
        *(int*)(s + 4) = (int)fd;
        *(ulong*)(s + 8) = token;
        return Sys.Ioctl(session, PreserveFd, s);
    }

    /// <summary>RETRIEVE_FD: the new fd, or -errno.</summary>
    public static long Retrieve(long session, ulong token)
    {
        byte* s = stackalloc byte[16];
        *(uint*)s = 16;
        *(int*)(s + 4) = -1;
        *(ulong*)(s + 8) = token;
        long r = Sys.Ioctl(session, RetrieveFd, s);
        return r < 0 ? r : *(int*)(s + 4);
    }

    public static long FinishSession(long session)
    {
        byte* s = stackalloc byte[8];
        *(uint*)s = 8;
        *(uint*)(s + 4) = 0;
        return Sys.Ioctl(session, Finish, s);
    }

    /// <summary>Reads /sys/kernel/liveupdate/number.</summary>
    public static long Number() => Sys.ReadNumber("/sys/kernel/liveupdate/number");

    /// <summary>Loads the kernel from fw_cfg (as Linux names it in sysfs) with the current command line.</summary>
    public static long LoadSameKernel()
    {
        long k = Sys.Open("/sys/firmware/qemu_fw_cfg/by_name/opt/khoemu/kernel/raw");
        if (k < 0) return k;
        byte* cmd = stackalloc byte[1024];
        long n = Cmdline.Read(cmd, 1023);
        long r = Sys.KexecFileLoad(k, cmd, n);
        Sys.Close(k);
        return r;
    }
}

/// <summary>The kernel command line, from /proc/cmdline.</summary>
public static unsafe class Cmdline
{
    public static long Read(byte* buf, long max)
    {
        long fd = Sys.Open("/proc/cmdline");
        if (fd < 0) return 0;
        long n = Sys.Read(fd, buf, max);
        Sys.Close(fd);
        if (n < 0) n = 0;
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == 0)) n--;
        return n;
    }

    /// <summary>
    /// The index just past the first <c>key=</c> that starts a word at or after <paramref name="from"/>, or -1.
    /// </summary>
    private static long ValueAt(byte* b, long n, string key, long from)
    {
        for (long i = from; i + key.Length < n; i++)
        {
            if (i > 0 && b[i - 1] != ' ') continue;
            bool match = b[i + key.Length] == '=';
            for (int k = 0; k < key.Length && match; k++) match = b[i + k] == key[k];
            if (match) return i + key.Length + 1;
        }
        return -1;
    }

    /// <summary>The decimal value of <c>key=N</c>, or <paramref name="fallback"/>.</summary>
    public static long Number(string key, long fallback)
    {
        byte* b = stackalloc byte[1024];
        long n = Read(b, 1023);
        long j = ValueAt(b, n, key, 0);
        if (j < 0 || j >= n || b[j] < '0' || b[j] > '9') return fallback;
        long v = 0;
        for (; j < n && b[j] >= '0' && b[j] <= '9'; j++) v = v * 10 + (b[j] - '0');
        return v;
    }

    /// <summary>True when the command line has <c>key=</c> with any value.</summary>
    public static bool HasKey(string key)
    {
        byte* b = stackalloc byte[1024];
        return ValueAt(b, Read(b, 1023), key, 0) >= 0;
    }

    /// <summary>True when the command line has <c>key=value</c>.</summary>
    public static bool Has(string key, string value)
    {
        byte* b = stackalloc byte[1024];
        long n = Read(b, 1023);
        for (long v = ValueAt(b, n, key, 0); v >= 0; v = ValueAt(b, n, key, v))
        {
            if (v + value.Length > n) continue;
            bool match = true;
            for (int k = 0; k < value.Length && match; k++) match = b[v + k] == value[k];
            if (match && (v + value.Length == n || b[v + value.Length] == ' ')) return true;
        }
        return false;
    }
}
