using KhoEmu.Kernel.Fs;

namespace KhoEmu.Kernel.Luo;

/// <summary>
/// /dev/liveupdate (one opener at a time) and session files. ioctl requests are _IO(0xBA, nr); every argument
/// struct starts with its u32 size: smaller than the kernel's struct → EINVAL, larger with non-zero trailing bytes
/// → E2BIG (bigger with zero bytes is accepted, for forward compatibility).
/// </summary>
public sealed unsafe class LiveUpdateDevice : KFile
{
    public const uint Type = 0xBA;
    public const uint CreateSession = (Type << 8) | 0x00, RetrieveSession = (Type << 8) | 0x01;
    public const uint PreserveFd = (Type << 8) | 0x40, RetrieveFd = (Type << 8) | 0x41, Finish = (Type << 8) | 0x42;
    private static bool s_open;

    public static long Open()
    {
        if (s_open) return -Errno.EBUSY;
        s_open = true;
        return FdTable.Install(new LiveUpdateDevice());
    }

    public override void Release() => s_open = false;

    /// <summary>Reads a size-prefixed ioctl struct of <paramref name="known"/> bytes into <paramref name="dst"/>.</summary>
    public static long ReadArg(ulong arg, byte* dst, uint known)
    {
        uint size;
        if (UserMemory.CopyFrom(&size, arg, 4) != 0) return -Errno.EFAULT;
        if (size < known) return -Errno.EINVAL;
        if (size > 4096) return -Errno.E2BIG;
        if (UserMemory.CopyFrom(dst, arg, known) != 0) return -Errno.EFAULT;
        for (uint off = known; off < size; off++)
        {
            byte b;
            if (UserMemory.CopyFrom(&b, arg + off, 1) != 0) return -Errno.EFAULT;
            if (b != 0) return -Errno.E2BIG;
        }
        return 0;
    }

    public override long Ioctl(uint request, ulong arg)
    {
        if (request != CreateSession && request != RetrieveSession) return -Errno.ENOTTY;
        byte* s = stackalloc byte[72];
        long r = ReadArg(arg, s, 72);
        if (r != 0) return r;
        byte* name = s + 8;
        name[63] = 0;
        Session? session;
        if (request == CreateSession)
        {
            r = LiveUpdate.Create(name, out session);
            if (r != 0) return r;
        }
        else
        {
            session = LiveUpdate.Find(name, incoming: true);
            if (session == null) return -Errno.ENOENT;
            if (session.Retrieved || session.Finished) return -Errno.EINVAL;
            session.Retrieved = true;
        }
        int fd = FdTable.Install(new SessionFile(session!));
        if (fd < 0) return fd;
        *(int*)(s + 4) = fd;
        return UserMemory.CopyTo(arg + 4, s + 4, 4);
    }
}

/// <summary>A session's file descriptor: PRESERVE_FD, RETRIEVE_FD, FINISH. Closing an outgoing session unpreserves its files.</summary>
public sealed unsafe class SessionFile(Session session) : KFile
{
    public Session Session { get; } = session;

    public override long Ioctl(uint request, ulong arg)
    {
        byte* s = stackalloc byte[16];
        long r;
        switch (request)
        {
            case LiveUpdateDevice.PreserveFd:
                r = LiveUpdateDevice.ReadArg(arg, s, 16);
                if (r != 0) return r;
                return LiveUpdate.PreserveFd(Session, *(int*)(s + 4), *(ulong*)(s + 8));
            case LiveUpdateDevice.RetrieveFd:
                r = LiveUpdateDevice.ReadArg(arg, s, 16);
                if (r != 0) return r;
                r = LiveUpdate.RetrieveFd(Session, *(ulong*)(s + 8), out int fd);
                if (r != 0) return r;
                *(int*)(s + 4) = fd;
                return UserMemory.CopyTo(arg + 4, s + 4, 4);
            case LiveUpdateDevice.Finish:
                r = LiveUpdateDevice.ReadArg(arg, s, 8);
                if (r != 0) return r;
                if (*(uint*)(s + 4) != 0) return -Errno.EINVAL;
                return LiveUpdate.Finish(Session);
            default:
                return -Errno.ENOTTY;
        }
    }

    public override void Release()
    {
        if (!Session.Incoming) LiveUpdate.CloseOutgoing(Session);
    }
}

/// <summary>
/// Debug and status files: /sys/kernel/debug/kho/fault (write "NAME[:K]"), /sys/kernel/liveupdate/number,
/// /sys/kernel/debug/kho/unrestored and /sys/kernel/debug/kho/quarantined (read, decimal),
/// /sys/kernel/debug/iommu/last_fault (read: the page-aligned IOVA of the pending VT-d fault record, decimal, 0 when
/// there is none; reading clears the record), and
/// /sys/kernel/debug/kho/preserve (write "scratch": try to preserve the first scratch page; the write returns
/// KHO's answer, which must be -EINVAL).
/// </summary>
public sealed unsafe class ControlFile(bool fault, int value = 0) : KFile
{
    public const int Number = 0, Unrestored = 1, Quarantined = 2, PreserveTest = 3, BlackoutMark = 4, IommuFault = 5;
    private bool _done;

    public override long Write(ulong buf, ulong count)
    {
        if (!fault && value == BlackoutMark)
        {
            KhoEmu.Kernel.Kho.Oracle.BlackoutEnd();
            return (long)count;
        }
        if (!fault && value == PreserveTest)
        {
            if (KhoEmu.Kernel.Mm.PageAllocator.ScratchCount == 0) return -Errno.ENODEV;
            long r = KhoEmu.Kernel.Kho.Kho.Preserve(KhoEmu.Kernel.Mm.PageAllocator.Scratch(0).Addr, 0);
            if (r == 0) KhoEmu.Kernel.Kho.Kho.Unpreserve(KhoEmu.Kernel.Mm.PageAllocator.Scratch(0).Addr, 0);
            return r == 0 ? (long)count : r;
        }
        if (!fault) return -Errno.EINVAL;
        byte* text = stackalloc byte[64];
        ulong n = count < 63 ? count : 63;
        if (UserMemory.CopyFrom(text, buf, n) != 0) return -Errno.EFAULT;
        return FaultInjection.Arm(text, (int)n) ? (long)count : -Errno.EINVAL;
    }

    public override long Read(ulong buf, ulong count)
    {
        if (fault || _done) return 0;
        byte* text = stackalloc byte[24];
        ulong v = value switch
        {
            Unrestored => KhoEmu.Kernel.Kho.Kho.UnrestoredBlocks(),
            Quarantined => KhoEmu.Kernel.Kho.Kho.QuarantinedBlocks,
            IommuFault => Drivers.Vtd.Enabled && Drivers.Vtd.TakeFault(out ulong iova, out _, out _, out _) ? iova : 0,
            _ => LiveUpdate.Number,
        };
        int n = 0;
        byte* rev = stackalloc byte[24];
        do { rev[n++] = (byte)('0' + (int)(v % 10)); v /= 10; } while (v != 0);
        for (int i = 0; i < n; i++) text[i] = rev[n - 1 - i];
        text[n++] = (byte)'\n';
        if ((ulong)n > count) return -Errno.EINVAL;
        _done = true;
        return UserMemory.CopyTo(buf, text, (ulong)n) == 0 ? n : -Errno.EFAULT;
    }
}
