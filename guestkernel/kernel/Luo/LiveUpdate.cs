using Internal.Runtime;
using KhoEmu.Guest.Platform;
using KhoEmu.Guest.Shared;
using KhoEmu.Kernel.Fs;
using KhoEmu.Kernel.Mm;

namespace KhoEmu.Kernel.Luo;

/// <summary>One preserved (outgoing) or incoming file of a session.</summary>
public sealed class LuoFile
{
    public KFile? File;            // outgoing: the preserved file; incoming: set once retrieved
    public FileHandler? Handler;
    public ulong Token, Data;
    public bool Frozen, Retrieved;
    public string? Problem;        // incoming: why it cannot be retrieved
}

/// <summary>A named session: outgoing (created in this kernel) or incoming (from the previous one).</summary>
public sealed unsafe class Session
{
    public const int NameLength = 64, MaxFiles = 128;
    public readonly byte* Name = (byte*)Heap.Allocate(NameLength);
    public readonly LuoFile?[] Files = new LuoFile?[MaxFiles];
    public int Count;
    public bool Incoming, Retrieved, Finished, Open;

    public bool NameEquals(byte* other)
    {
        for (int i = 0; i < NameLength; i++)
        {
            if (Name[i] != other[i]) return false;
            if (Name[i] == 0) return true;
        }
        return true;
    }

    public LuoFile? FindToken(ulong token)
    {
        for (int i = 0; i < Count; i++)
            if (Files[i]!.Token == token) return Files[i];
        return null;
    }
}

/// <summary>
/// The Live Update Orchestrator: sessions of preserved files, file handlers by compatible string, freeze at kexec
/// (in preservation order, undone on failure), serialization into the "LUO" KHO sub-FDT (luo-v1 / luo-session-v2),
/// and the incoming side: sessions rebuilt at boot, files retrieved once per token, finish in reverse order.
/// </summary>
public static unsafe class LiveUpdate
{
    public const int MaxSessions = 64;
    public static readonly Session?[] Sessions = new Session?[MaxSessions];
    public static int SessionCount;
    private static readonly FileHandler?[] s_handlers = new FileHandler?[8];
    private static int s_handlerCount;
    public static ulong Number;            // liveupdate-number received (0 on a cold boot)
    public static string? IncomingError;
    public static int IncomingProblems;

    public static void RegisterHandler(FileHandler h) => s_handlers[s_handlerCount++] = h;

    public static FileHandler? HandlerFor(KFile f)
    {
        for (int i = 0; i < s_handlerCount; i++) if (s_handlers[i]!.CanPreserve(f)) return s_handlers[i];
        return null;
    }

    private static FileHandler? HandlerFor(byte* compatible)
    {
        for (int i = 0; i < s_handlerCount; i++)
            if (Fdt.NameEquals(compatible, 48, s_handlers[i]!.Compatible)) return s_handlers[i];
        return null;
    }

    public static Session? Find(byte* name, bool incoming)
    {
        for (int i = 0; i < SessionCount; i++)
            if (Sessions[i] is { } s && s.Incoming == incoming && s.NameEquals(name)) return s;
        return null;
    }

    public static long Create(byte* name, out Session? session)
    {
        session = null;
        if (name[0] == 0) return -Errno.EINVAL;
        if (Find(name, incoming: false) != null || Find(name, incoming: true) is { Finished: false }) return -Errno.EEXIST;
        if (SessionCount == MaxSessions) return -Errno.ENOSPC;
        var s = new Session();
        Native.MemCopy(s.Name, name, Session.NameLength);
        s.Name[Session.NameLength - 1] = 0;
        s.Open = true;
        Sessions[SessionCount++] = s;
        session = s;
        return 0;
    }

    public static void Remove(Session s)
    {
        for (int i = 0; i < SessionCount; i++)
        {
            if (Sessions[i] != s) continue;
            for (int k = i; k < SessionCount - 1; k++) Sessions[k] = Sessions[k + 1];
            Sessions[--SessionCount] = null;
            return;
        }
    }

    public static long PreserveFd(Session s, long fd, ulong token)
    {
        if (s.Incoming) return -Errno.EINVAL;
        var f = FdTable.Get(fd);
        if (f == null) return -Errno.EBADF;
        if (s.FindToken(token) != null) return -Errno.EEXIST;
        // A file is in one session at a time. A finished incoming session no longer holds its files: they are the
        // process's own again, and a process that keeps state across many updates preserves them anew.
        for (int i = 0; i < SessionCount; i++)
        {
            if (Sessions[i] is not { } other || (other.Incoming && other.Finished)) continue;
            for (int k = 0; k < other.Count; k++)
                if (other.Files[k]!.File == f) return -Errno.EBUSY;
        }
        var h = HandlerFor(f);
        if (h == null) return -Errno.ENOENT;
        if (s.Count == Session.MaxFiles) return -Errno.ENOSPC;
        long r = h.Preserve(f);
        if (r != 0) return r;
        f.References++;
        s.Files[s.Count++] = new LuoFile { File = f, Handler = h, Token = token };
        return 0;
    }

    /// <summary>Closing an outgoing session unpreserves its files (reverse order).</summary>
    public static void CloseOutgoing(Session s)
    {
        for (int i = s.Count - 1; i >= 0; i--)
        {
            var lf = s.Files[i]!;
            lf.Handler!.Unpreserve(lf.File!);
            if (--lf.File!.References == 0) lf.File.Release();
        }
        Remove(s);
    }

    // ---- kexec: freeze, serialize ------------------------------------------------------------------------------

    /// <summary>Freeze every preserved file in preservation order; on failure unfreeze those already frozen.</summary>
    public static long Freeze()
    {
        for (int i = 0; i < SessionCount; i++)
        {
            var s = Sessions[i]!;
            if (s.Incoming) continue;
            for (int k = 0; k < s.Count; k++)
            {
                var lf = s.Files[k]!;
                long r = FaultInjection.FreezeShouldFail() ? -Errno.EIO : lf.Handler!.Freeze(lf.File!, out lf.Data);
                if (r != 0)
                {
                    Console.Write("luo: freeze failed (");
                    Console.WriteDec(r);
                    Console.WriteLine("); unfreezing");
                    Unfreeze();
                    return r;
                }
                lf.Frozen = true;
            }
        }
        long e = Serialize();
        if (e != 0) Unfreeze();
        return e;
    }

    public static void Unfreeze()
    {
        for (int i = SessionCount - 1; i >= 0; i--)
        {
            var s = Sessions[i]!;
            if (s.Incoming) continue;
            for (int k = s.Count - 1; k >= 0; k--)
            {
                var lf = s.Files[k]!;
                if (!lf.Frozen) continue;
                lf.Handler!.Unfreeze(lf.File!, lf.Data);
                lf.Frozen = false;
                lf.Data = 0;
            }
        }
    }

    /// <summary>
    /// Writes the LUO sub-FDT: compatible "luo-v1", liveupdate-number, child luo-session {compatible
    /// "luo-session-v2", luo-session-header}. Header {u64 count} then per session {char name[64]; u64 files_phys;
    /// u64 count}; per file {char compatible[48]; u64 data; u64 token}. Every page is preserved through KHO.
    /// </summary>
    private static long Serialize()
    {
        int outgoing = 0;
        for (int i = 0; i < SessionCount; i++) if (!Sessions[i]!.Incoming) outgoing++;
        ulong header = KhoEmu.Kernel.Kho.Kho.AllocPreserved((ulong)(8 + 80 * outgoing), out _);
        if (header == 0) return -Errno.ENOMEM;
        var h = (byte*)Phys.ToVirt(header);
        *(ulong*)h = (ulong)outgoing;
        int n = 0;
        for (int i = 0; i < SessionCount; i++)
        {
            var s = Sessions[i]!;
            if (s.Incoming) continue;
            byte* entry = h + 8 + 80 * n++;
            Native.MemCopy(entry, s.Name, 64);
            ulong files = 0;
            if (s.Count > 0)
            {
                files = KhoEmu.Kernel.Kho.Kho.AllocPreserved((ulong)(64 * s.Count), out _);
                if (files == 0) return -Errno.ENOMEM;
                var fp = (byte*)Phys.ToVirt(files);
                for (int k = 0; k < s.Count; k++)
                {
                    var lf = s.Files[k]!;
                    string compat = FaultInjection.CompatibleFor(lf.Handler!.Compatible, k);
                    for (int c = 0; c < compat.Length && c < 47; c++) fp[64 * k + c] = (byte)compat[c];
                    *(ulong*)(fp + 64 * k + 48) = lf.Data;
                    *(ulong*)(fp + 64 * k + 56) = FaultInjection.TokenFor(lf.Token, k, s.Count > 1 ? s.Files[0]!.Token : lf.Token);
                }
            }
            *(ulong*)(entry + 64) = files;
            *(ulong*)(entry + 72) = (ulong)s.Count;
        }
        ulong fdt = KhoEmu.Kernel.Kho.Kho.AllocPreserved(Phys.PageSize, out _);
        if (fdt == 0) return -Errno.ENOMEM;
        var w = FdtWriter.Create((byte*)Phys.ToVirt(fdt), (int)Phys.PageSize);
        w.BeginNode("");
        w.PropertyString("compatible", FaultInjection.LuoCompatible());
        w.PropertyU64("liveupdate-number", Number + 1);
        w.BeginNode("luo-session");
        w.PropertyString("compatible", "luo-session-v2");
        w.PropertyU64("luo-session-header", header);
        w.EndNode();
        w.EndNode();
        if (w.Finish() < 0) return -Errno.ENOMEM;
        FaultInjection.CorruptFdt((byte*)Phys.ToVirt(fdt));
        return KhoEmu.Kernel.Kho.Kho.AddSubtree("LUO", fdt);
    }

    // ---- incoming -----------------------------------------------------------------------------------------------

    private static void Problem(string what)
    {
        IncomingProblems++;
        Console.Write("luo: ");
        Console.WriteLine(what);
        IncomingError ??= what;
    }

    /// <summary>Rebuilds incoming sessions from the LUO sub-FDT. Broken items are reported and skipped; the rest stays.</summary>
    public static void ReadIncoming()
    {
        ulong fdt = KhoEmu.Kernel.Kho.Kho.FindSubtree("LUO");
        if (fdt == 0) return;
        KhoEmu.Kernel.Kho.Kho.Restore(fdt, 0);
        if (FdtReader.Open((byte*)Phys.ToVirt(fdt), Phys.PageSize, out var r) != 0) { Problem("LUO FDT is malformed; no session can be restored"); return; }
        if (!r.StringEquals(0, "compatible", "luo-v1")) { Problem("LUO FDT is not compatible \"luo-v1\"; no session can be restored"); return; }
        if (!r.GetU64(0, "liveupdate-number", out Number)) Problem("LUO FDT has no liveupdate-number");
        int node = r.FindChild(0, "luo-session");
        if (node < 0 || !r.StringEquals(node, "compatible", "luo-session-v2") || !r.GetU64(node, "luo-session-header", out ulong header))
        {
            Problem("LUO FDT: luo-session node missing or not luo-session-v2");
            return;
        }
        if (!KhoEmu.Kernel.Kho.Kho.Restore(header, 0) && !RestoreAnyOrder(header))
        {
            Problem("LUO session header is not preserved memory");
            return;
        }
        var h = (byte*)Phys.ToVirt(header);
        ulong count = *(ulong*)h;
        if (count > MaxSessions || 8 + 80 * count > (Phys.PageSize << 4)) { Problem("LUO session header: bad session count"); return; }
        for (ulong i = 0; i < count; i++)
        {
            byte* entry = h + 8 + 80 * i;
            ulong files = *(ulong*)(entry + 64), n = *(ulong*)(entry + 72);
            var s = new Session { Incoming = true };
            Native.MemCopy(s.Name, entry, 64);
            s.Name[63] = 0;
            if (n > Session.MaxFiles || (n > 0 && !RestoreAnyOrder(files)))
            {
                Problem("LUO session with a bad file list skipped");
                continue;
            }
            var fp = (byte*)Phys.ToVirt(files);
            for (ulong k = 0; k < n; k++)
            {
                var lf = new LuoFile { Data = *(ulong*)(fp + 64 * k + 48), Token = *(ulong*)(fp + 64 * k + 56) };
                lf.Handler = HandlerFor(fp + 64 * k);
                if (lf.Handler == null) lf.Problem = "unknown compatible";
                else if (s.FindToken(lf.Token) != null) lf.Problem = "duplicate token";
                if (lf.Problem != null)
                {
                    Console.Write("luo: token ");
                    Console.WriteDec(lf.Token);
                    Console.Write(": ");
                    Console.WriteLine(lf.Problem);
                    IncomingProblems++;
                }
                s.Files[s.Count++] = lf;
            }
            if (SessionCount < MaxSessions) Sessions[SessionCount++] = s;
        }
    }

    /// <summary>Metadata allocations are 2^k pages; the new kernel does not know k for variable-sized lists.</summary>
    private static bool RestoreAnyOrder(ulong phys)
    {
        for (int order = 0; order <= 8; order++)
            if (KhoEmu.Kernel.Kho.Kho.Restore(phys, order)) return true;
        return false;
    }

    public static long RetrieveFd(Session s, ulong token, out int fd)
    {
        fd = -1;
        if (!s.Incoming || s.Finished) return -Errno.EINVAL;
        var lf = s.FindToken(token);
        if (lf == null) return -Errno.ENOENT;
        if (lf.Retrieved) return -Errno.EINVAL;
        if (lf.Problem != null) return -Errno.EIO;
        long r = lf.Handler!.Retrieve(lf.Data, out KFile? f);
        if (r == -Errno.EAGAIN) return r;  // a dependency (vfio needs its iommufd) is not retrieved yet: try later
        if (r != 0)
        {
            lf.Problem = "its data could not be restored";
            Console.Write("luo: token ");
            Console.WriteDec(token);
            Console.WriteLine(": data could not be restored (memory stays reserved)");
            return r;
        }
        lf.Retrieved = true;
        lf.File = f;
        f!.References++;                  // the session's reference until finish
        int installed = FdTable.Install(f);
        if (installed < 0) return installed;
        fd = installed;
        return 0;
    }

    /// <summary>FINISH: all-or-nothing; EBUSY when a handler cannot finish. Finish runs in reverse order.</summary>
    public static long Finish(Session s)
    {
        if (!s.Incoming || s.Finished) return -Errno.EINVAL;
        for (int i = 0; i < s.Count; i++)
        {
            var lf = s.Files[i]!;
            if (lf.Retrieved && !lf.Handler!.CanFinish(lf.File!)) return -Errno.EBUSY;
        }
        for (int i = s.Count - 1; i >= 0; i--)
        {
            var lf = s.Files[i]!;
            if (!lf.Retrieved) continue;
            lf.Handler!.Finish(lf.File!);
            if (--lf.File!.References == 0) lf.File.Release();
        }
        s.Finished = true;
        return 0;
    }
}
