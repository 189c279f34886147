using System.Runtime;
using Internal.Runtime;
using Internal.Runtime.CompilerHelpers;

namespace KhoEmu.Init;

/// <summary>
/// The first ring-3 program. Without a live-update scenario on the command line it greets and exits; with
/// <c>scenario=kexec-memfd</c> (and the other live-update scenarios) it drives the scenario through the uAPI,
/// in two stages around the kexec, finding its stage the way Linux's selftests do: by a state session.
/// </summary>
public static unsafe class Program
{
    [RuntimeExport("UserMain")]
    private static int UserMain()
    {
        ulong* info = stackalloc ulong[6];
        Sys.LinkInfo(info);
        Heap.AddRegion((void*)info[4], (nuint)info[5]);
        StartupCodeHelpers.InitializeModules((void**)info[0], (void**)info[1]);

        if (Cmdline.Has("scenario", "kexec-memfd")) return KexecMemfd.Run();
        if (Cmdline.Has("scenario", "luo-selftests")) return LuoSelftests.Run();
        if (Cmdline.Has("scenario", "handover-faults")) return HandoverFaults.Run();
        if (Cmdline.Has("scenario", "blackout")) return Blackout.Run();
        if (Cmdline.Has("scenario", "vfio-dma")) return VfioDma.Run();
        if (Cmdline.Has("scenario", "kexec-vfio-dma")) return KexecVfioDma.Run();
        if (Cmdline.Has("scenario", "kexec-soak")) return KexecSoak.Run();
        if (Cmdline.HasKey("scenario") && !Cmdline.Has("scenario", "boot") && !Cmdline.Has("scenario", "devices"))   // the kernel's own
        {
            Ktap.Plan(1);
            Ktap.Check(false, "scenario", "unknown scenario name");
            return 1;
        }

        if (Sys.WriteString(1, "init: hello from ring 3 (pid ") < 0) return 1;
        Out.Dec(Sys.Call(Sys.NrGetpid, 0, 0, 0, 0, 0));
        Out.Line(")");
        // A bad pointer must come back as -EFAULT, not crash anything.
        long r = Sys.Call(Sys.NrWrite, 1, 0x10, 4, 0, 0);
        return r == -Sys.EFAULT ? 0 : 2;
    }
}

/// <summary>Deterministic test data: xorshift64* and a 64-bit checksum.</summary>
public static unsafe class Pattern
{
    public static ulong Next(ref ulong s)
    {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        return s * 0x2545_F491_4F6C_DD1DUL;
    }

    public static ulong Mix(ulong h, ulong v) => (h ^ v) * 0x0000_0100_0000_01B3UL + 0x9E37_79B9_7F4A_7C15UL;

    /// <summary>Writes <paramref name="bytes"/> of pattern (seeded) to <paramref name="fd"/>; returns the checksum or 0 on error.</summary>
    public static ulong Fill(long fd, ulong bytes, ulong seed, byte* buf, ulong bufSize)
    {
        ulong h = 0xCBF2_9CE4_8422_2325UL, done = 0;
        while (done < bytes)
        {
            ulong n = bytes - done < bufSize ? bytes - done : bufSize;
            for (ulong i = 0; i < n / 8; i++)
            {
                ulong v = Next(ref seed);
                ((ulong*)buf)[i] = v;
                h = Mix(h, v);
            }
            if (Sys.Write(fd, buf, (long)n) != (long)n) return 0;
            done += n;
        }
        return h;
    }

    /// <summary>Reads <paramref name="bytes"/> from <paramref name="fd"/> and checksums them like <see cref="Fill"/>.</summary>
    public static ulong Sum(long fd, ulong bytes, byte* buf, ulong bufSize)
    {
        ulong h = 0xCBF2_9CE4_8422_2325UL, done = 0;
        while (done < bytes)
        {
            ulong n = bytes - done < bufSize ? bytes - done : bufSize;
            if (Sys.Read(fd, buf, (long)n) != (long)n) return 0;
            for (ulong i = 0; i < n / 8; i++) h = Mix(h, ((ulong*)buf)[i]);
            done += n;
        }
        return h;
    }
}

/// <summary>What stage 1 leaves for stage 2 in the state session's memfd.</summary>
public struct ScenarioState
{
    public const ulong MagicValue = 0x4B48_4F45_4D55_5354; // "KHOEMUST"
    public ulong Magic;
    public ulong NextTest;
    public ulong Failed;
    public ulong BigChecksum;
    public ulong SmallChecksum;
    public ulong NumberBefore;

    /// <summary>
    /// The start of a scenario's second stage: reads the state memfd stage 1 preserved under <paramref name="token"/>
    /// into <paramref name="state"/> (a struct that, like this one, starts with Magic, NextTest and Failed), resumes
    /// KTAP numbering and the failure count where stage 1 left them, and reports reboot_kexec.
    /// </summary>
    public static unsafe void Resume(long stateSession, ulong token, void* state, int size, string lostReason)
    {
        long fd = Luo.Retrieve(stateSession, token);
        if (fd >= 0)
        {
            Sys.Lseek(fd, 0, 0);
            Sys.Read(fd, state, size);
        }
        var head = (ulong*)state;   // Magic, NextTest, Failed
        Ktap.Number = (int)head[1] - 1;
        Ktap.Failed = (int)head[2];
        Ktap.Check(fd >= 0 && head[0] == MagicValue, "reboot_kexec", lostReason);
    }
}

/// <summary>
/// Scenario kexec-memfd: memfds (one of several MiB with a random pattern, one empty, one with a non-zero
/// position) preserved in two sessions survive a kexec with contents, size, position and tokens intact.
/// </summary>
public static unsafe class KexecMemfd
{
    private const string StateSession = "kexec-memfd-state";
    private const ulong BigSize = 8UL << 20, SmallSize = 100_000, SmallPos = 12_345, BigSeed = 0x1234_5678, SmallSeed = 99;
    private const ulong TokenBig = 1, TokenEmpty = 2, TokenPositioned = 3, TokenGone = 4, TokenState = 0x57A7E;
    private const int Stage1Tests = 11, Stage2Tests = 14;
    private const ulong BufSize = 64 * 1024;

    public static int Run()
    {
        long dev = Sys.Open("/dev/liveupdate");
        if (dev < 0)
        {
            Ktap.Plan(1);
            Ktap.Expect(dev, 0, "open_dev_liveupdate");
            return 1;
        }
        long state = Luo.Session(dev, Luo.RetrieveSession, StateSession);
        return state >= 0 ? Stage2(dev, state) : Stage1(dev);
    }

    private static int Stage1(long dev)
    {
        Ktap.Plan(Stage1Tests + Stage2Tests);
        Ktap.Note("kexec-memfd stage 1: preserving memfds in sessions memfd-a and memfd-b");
        byte* buf = (byte*)Heap.Allocate((nuint)BufSize);
        var st = new ScenarioState { Magic = ScenarioState.MagicValue, NumberBefore = (ulong)Luo.Number() };

        long a = Luo.Session(dev, Luo.CreateSession, "memfd-a");
        long b = Luo.Session(dev, Luo.CreateSession, "memfd-b");
        long c = Luo.Session(dev, Luo.CreateSession, "memfd-c");
        Ktap.Check(a >= 0 && b >= 0 && c >= 0, "create_sessions", "CREATE_SESSION failed");

        long big = Sys.MemfdCreate("big");
        st.BigChecksum = Pattern.Fill(big, BigSize, BigSeed, buf, BufSize);
        Ktap.Check(big >= 0 && st.BigChecksum != 0, "fill_8mib_memfd", "memfd_create or write failed");
        long empty = Sys.MemfdCreate("empty");
        long pos = Sys.MemfdCreate("positioned");
        st.SmallChecksum = Pattern.Fill(pos, SmallSize, SmallSeed, buf, BufSize);
        Ktap.Expect(Sys.Lseek(pos, (long)SmallPos, 0), (long)SmallPos, "seek_positioned_memfd");

        Ktap.Expect(Luo.Preserve(a, big, TokenBig), 0, "preserve_big");
        Ktap.Expect(Luo.Preserve(a, empty, TokenEmpty), 0, "preserve_empty");
        Ktap.Expect(Luo.Preserve(b, pos, TokenPositioned), 0, "preserve_positioned");
        long gone = Sys.MemfdCreate("gone");
        Pattern.Fill(gone, 4096, 7, buf, BufSize);
        Ktap.Expect(Luo.Preserve(c, gone, TokenGone), 0, "preserve_then_close_session");
        Sys.Close(c);                          // closing an outgoing session unpreserves its files
        // The descriptors can go: the sessions hold the files.
        Sys.Close(big);
        Sys.Close(empty);
        Sys.Close(pos);

        long load = Luo.LoadSameKernel();
        Ktap.Expect(load, 0, "kexec_file_load");

        long s = Luo.Session(dev, Luo.CreateSession, StateSession);
        long stateFd = Sys.MemfdCreate("state");
        st.NextTest = (ulong)Ktap.Number + 3;   // the two checks below and the reboot check
        st.Failed = (ulong)Ktap.Failed;
        long w = Sys.Write(stateFd, &st, sizeof(ScenarioState));
        Ktap.Check(s >= 0 && w == sizeof(ScenarioState), "write_state", "state session or memfd failed");
        Ktap.Expect(Luo.Preserve(s, stateFd, TokenState), 0, "preserve_state");
        Ktap.Note("kexec-memfd stage 1 done: rebooting into the same kernel");
        long r = Sys.RebootKexec();
        // Only reached when the kexec failed.
        Ktap.Expect(r, 0, "reboot_kexec");
        return 1;
    }

    private static int Stage2(long dev, long stateSession)
    {
        byte* buf = (byte*)Heap.Allocate((nuint)BufSize);
        var st = default(ScenarioState);
        ScenarioState.Resume(stateSession, TokenState, &st, sizeof(ScenarioState), "state session came back without its state");
        Ktap.Note("kexec-memfd stage 2: retrieving after the kexec");

        long number = Luo.Number();
        Ktap.Expect(number, (long)st.NumberBefore + 1, "liveupdate_number_incremented");

        long a = Luo.Session(dev, Luo.RetrieveSession, "memfd-a");
        long b = Luo.Session(dev, Luo.RetrieveSession, "memfd-b");
        Ktap.Check(a >= 0 && b >= 0, "retrieve_sessions", "RETRIEVE_SESSION failed");
        Ktap.Expect(Luo.Session(dev, Luo.RetrieveSession, "memfd-a"), -Sys.EINVAL, "second_session_retrieve_fails");

        long big = Luo.Retrieve(a, TokenBig);
        Ktap.Check(big >= 0, "retrieve_big", "RETRIEVE_FD failed");
        long bigSize = Sys.Lseek(big, 0, 2);
        Ktap.Expect(bigSize, (long)BigSize, "big_size_kept");
        Ktap.Expect(Sys.Lseek(big, 0, 1), (long)BigSize, "big_position_kept");
        Sys.Lseek(big, 0, 0);
        ulong sum = Pattern.Sum(big, BigSize, buf, BufSize);
        Ktap.Check(sum == st.BigChecksum && sum != 0, "big_contents_identical", "checksum differs");

        long empty = Luo.Retrieve(a, TokenEmpty);
        Ktap.Check(empty >= 0 && Sys.Lseek(empty, 0, 2) == 0, "empty_memfd_still_empty", "empty memfd missing or not empty");

        long pos = Luo.Retrieve(b, TokenPositioned);
        Ktap.Expect(Sys.Lseek(pos, 0, 1), (long)SmallPos, "position_kept");
        Ktap.Expect(Sys.Lseek(pos, 0, 2), (long)SmallSize, "positioned_size_kept");
        Sys.Lseek(pos, 0, 0);
        Ktap.Check(Pattern.Sum(pos, SmallSize, buf, BufSize) == st.SmallChecksum, "positioned_contents_identical", "checksum differs");

        Ktap.Expect(Luo.Retrieve(a, TokenBig), -Sys.EINVAL, "second_token_retrieve_fails");
        Ktap.Expect(Luo.Session(dev, Luo.RetrieveSession, "memfd-c"), -Sys.ENOENT, "unpreserved_session_is_gone");
        Ktap.Check(Luo.FinishSession(a) == 0 && Luo.FinishSession(b) == 0 && Luo.FinishSession(stateSession) == 0,
            "finish_sessions", "FINISH failed");
        return Ktap.Failed == 0 ? 0 : 1;
    }
}
