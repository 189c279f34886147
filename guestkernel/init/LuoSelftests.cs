using Internal.Runtime;

namespace KhoEmu.Init;

/// <summary>
/// Scenario luo-selftests: the cases of Linux's tools/testing/selftests/liveupdate, re-expressed against this
/// kernel: device open rules, session creation rules, preserving one and many memfds, unsupported and bad fds,
/// struct-size rules, finish semantics, and several sessions carried across a kexec.
/// </summary>
public static unsafe class LuoSelftests
{
    private const string StateSession = "luo-selftests-state";
    private const ulong TokenState = 0x5E1F;
    private const int Stage1Tests = 24, Stage2Tests = 11;

    public static int Run()
    {
        long dev = Sys.Open("/dev/liveupdate");
        if (dev >= 0)
        {
            long state = Luo.Session(dev, Luo.RetrieveSession, StateSession);
            if (state >= 0) return Stage2(dev, state);
        }
        return Stage1(dev);
    }

    private static long Memfd(string name, ulong seed, ulong bytes, byte* buf, out ulong sum)
    {
        long fd = Sys.MemfdCreate(name);
        sum = fd >= 0 ? Pattern.Fill(fd, bytes, seed, buf, 4096) : 0;
        return fd;
    }

    private static int Stage1(long dev)
    {
        Ktap.Plan(Stage1Tests + Stage2Tests);
        byte* buf = (byte*)Heap.Allocate(4096);
        // Device rules.
        Ktap.Check(dev >= 0, "open_device", "open(/dev/liveupdate) failed");
        Ktap.Expect(Sys.Open("/dev/liveupdate"), -Sys.EBUSY, "exclusive_open");
        Ktap.Expect(Sys.Close(dev), 0, "close_device");
        dev = Sys.Open("/dev/liveupdate");
        Ktap.Check(dev >= 0, "reopen_after_close", "reopen failed");

        // Session rules.
        long s1 = Luo.Session(dev, Luo.CreateSession, "selftest-one");
        Ktap.Check(s1 >= 0, "create_session", "CREATE_SESSION failed");
        Ktap.Expect(Luo.Session(dev, Luo.CreateSession, "selftest-one"), -Sys.EEXIST, "duplicate_session_name");
        long s2 = Luo.Session(dev, Luo.CreateSession, "selftest-two");
        Ktap.Check(s2 >= 0 && s2 != s1, "distinct_sessions", "second session missing or same fd");
        Ktap.Expect(Luo.Session(dev, Luo.CreateSession, ""), -Sys.EINVAL, "empty_session_name");
        Ktap.Expect(Luo.Session(dev, Luo.RetrieveSession, "never-existed"), -Sys.ENOENT, "retrieve_missing_session");
        Ktap.Expect(Sys.Ioctl(dev, 0xBA7F, buf), -Sys.ENOTTY, "unknown_ioctl");

        // Preserving files.
        long one = Memfd("one", 1, 8192, buf, out ulong sumOne);
        Ktap.Expect(Luo.Preserve(s1, one, 100), 0, "preserve_one_memfd");
        Ktap.Expect(Luo.Preserve(s1, one, 101), -Sys.EBUSY, "same_file_twice");
        long other = Sys.MemfdCreate("other");
        Ktap.Expect(Luo.Preserve(s1, other, 100), -Sys.EEXIST, "token_in_use");
        bool many = true;
        ulong sumMany = 0;
        for (int i = 0; i < 32 && many; i++)
        {
            long fd = Memfd("many", (ulong)(1000 + i), 4096, buf, out ulong s);
            sumMany = Pattern.Mix(sumMany, s);
            many = Luo.Preserve(s2, fd, (ulong)(200 + i)) == 0;
            Sys.Close(fd);
        }
        Ktap.Check(many, "preserve_many_memfds", "preserving 32 memfds failed");
        long cmdline = Sys.Open("/proc/cmdline");
        Ktap.Expect(Luo.Preserve(s1, cmdline, 300), -Sys.ENOENT, "unsupported_fd");
        Ktap.Expect(Luo.Preserve(s1, 250, 301), -Sys.EBADF, "bad_fd");

        // Struct sizes: too small, bigger with non-zero trailing bytes, bigger with zeros.
        Ktap.Expect(Luo.Preserve(s1, other, 400, size: 8), -Sys.EINVAL, "struct_too_small");
        *(ulong*)(buf + 16) = 0xFF;
        Ktap.Expect(Preserve24(s1, other, 401, nonZeroTail: true, buf), -Sys.E2BIG, "struct_trailing_garbage");
        Ktap.Expect(Preserve24(s1, other, 402, nonZeroTail: false, buf), 0, "struct_bigger_zeroed");

        // Finish is for incoming sessions only.
        Ktap.Expect(Luo.FinishSession(s1), -Sys.EINVAL, "finish_outgoing_session");

        // Complex: a third session is filled, closed (unpreserving), and its token reused elsewhere.
        long s3 = Luo.Session(dev, Luo.CreateSession, "selftest-three");
        long tmp = Sys.MemfdCreate("tmp");
        bool complex = s3 >= 0 && Luo.Preserve(s3, tmp, 500) == 0 && Sys.Close(s3) == 0 && Luo.Preserve(s1, tmp, 500) == 0;
        Ktap.Check(complex, "complex_close_and_represerve", "closing a session did not release its file");

        long load = Luo.LoadSameKernel();
        long st = Luo.Session(dev, Luo.CreateSession, StateSession);
        long stateFd = Sys.MemfdCreate("state");
        var state = new ScenarioState { Magic = ScenarioState.MagicValue, BigChecksum = sumOne, SmallChecksum = sumMany };
        state.NextTest = (ulong)Ktap.Number + 3;
        state.Failed = (ulong)Ktap.Failed;
        Sys.Write(stateFd, &state, sizeof(ScenarioState));
        Ktap.Check(load == 0 && st >= 0 && Luo.Preserve(st, stateFd, TokenState) == 0, "prepare_kexec", "load or state failed");
        Ktap.Check(true, "stage1_complete", "");
        long r = Sys.RebootKexec();
        Ktap.Expect(r, 0, "reboot_kexec");
        return 1;
    }

    private static long Preserve24(long session, long fd, ulong token, bool nonZeroTail, byte* buf)
    {
        for (int i = 0; i < 24; i++) buf[i] = 0;
        *(uint*)buf = 24;
        *(int*)(buf + 4) = (int)fd;
        *(ulong*)(buf + 8) = token;
        if (nonZeroTail) buf[20] = 1;
        return Sys.Ioctl(session, Luo.PreserveFd, buf);
    }

    private static int Stage2(long dev, long stateSession)
    {
        byte* buf = (byte*)Heap.Allocate(4096);
        var st = default(ScenarioState);
        ScenarioState.Resume(stateSession, TokenState, &st, sizeof(ScenarioState), "state did not survive");

        long s1 = Luo.Session(dev, Luo.RetrieveSession, "selftest-one");
        long s2 = Luo.Session(dev, Luo.RetrieveSession, "selftest-two");
        Ktap.Check(s1 >= 0 && s2 >= 0, "multiple_sessions_across_kexec", "a session is missing");
        Ktap.Expect(Luo.Session(dev, Luo.RetrieveSession, "selftest-three"), -Sys.ENOENT, "closed_session_not_carried");
        long one = Luo.Retrieve(s1, 100);
        Ktap.Check(one >= 0 && Sys.Lseek(one, 0, 0) == 0 && Pattern.Sum(one, 8192, buf, 4096) == st.BigChecksum,
            "one_memfd_intact", "contents differ");
        ulong sumMany = 0;
        bool many = true;
        for (int i = 0; i < 32 && many; i++)
        {
            long fd = Luo.Retrieve(s2, (ulong)(200 + i));
            many = fd >= 0;
            if (!many) break;
            Sys.Lseek(fd, 0, 0);
            sumMany = Pattern.Mix(sumMany, Pattern.Sum(fd, 4096, buf, 4096));
            Sys.Close(fd);
        }
        Ktap.Check(many && sumMany == st.SmallChecksum, "many_memfds_intact", "a memfd is missing or differs");
        Ktap.Expect(Luo.Retrieve(s1, 999), -Sys.ENOENT, "retrieve_unknown_token");
        Ktap.Expect(Luo.Retrieve(s1, 100), -Sys.EINVAL, "retrieve_token_twice");
        Ktap.Check(Luo.Retrieve(s1, 402) >= 0 && Luo.Retrieve(s1, 500) >= 0, "other_tokens_retrievable", "token 402 or 500 missing");
        Ktap.Expect(Luo.FinishSession(s1), 0, "finish_session");
        Ktap.Expect(Luo.FinishSession(s1), -Sys.EINVAL, "finish_twice");
        Ktap.Expect(Luo.Retrieve(s1, 101), -Sys.EINVAL, "retrieve_after_finish");
        Ktap.Check(Luo.FinishSession(s2) == 0 && Luo.FinishSession(stateSession) == 0, "finish_remaining", "FINISH failed");
        return Ktap.Failed == 0 ? 0 : 1;
    }
}
