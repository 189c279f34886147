using Internal.Runtime;

namespace KhoEmu.Init;

/// <summary>
/// Scenario handover-faults: one kexec per injected fault (armed through /sys/kernel/debug/kho/fault before the
/// jump). Every time: no panic, the broken item reported with an error, every intact item restored, and the memory of
/// what could not be restored stays reserved. The round number and KTAP counters travel on the command line given
/// to kexec_file_load (hf_round=, hf_num=, hf_fail=), since some faults destroy every session.
/// </summary>
public static unsafe class HandoverFaults
{
    private const int Total = 29;
    private static byte* s_buf;

    public static int Run()
    {
        s_buf = (byte*)Heap.Allocate(4096);
        long round = Cmdline.Number("hf_round", 0);
        if (round == 0) Ktap.Plan(Total);
        Ktap.Number = (int)Cmdline.Number("hf_num", 0);
        Ktap.Failed = (int)Cmdline.Number("hf_fail", 0);
        long dev = Sys.Open("/dev/liveupdate");
        if (dev < 0)
        {
            Ktap.Expect(dev, 0, "open_dev_liveupdate");
            return 1;
        }
        switch (round)
        {
            case 0: return Round0(dev);
            case 1: return Round1(dev);
            case 2: return Round2(dev);
            case 3: return Round3(dev);
            default: return Round4(dev);
        }
    }

    private static long Memfd(ulong seed, ulong bytes, out ulong sum)
    {
        long fd = Sys.MemfdCreate("hf");
        sum = Pattern.Fill(fd, bytes, seed, s_buf, 4096);
        return fd;
    }

    private static bool Intact(long fd, ulong bytes, ulong sum) =>
        fd >= 0 && Sys.Lseek(fd, 0, 0) == 0 && Pattern.Sum(fd, bytes, s_buf, 4096) == sum;

    private static long Arm(string fault)
    {
        long fd = Sys.Open("/sys/kernel/debug/kho/fault");
        if (fd < 0) return fd;
        long r = Sys.WriteString(fd, fault);
        Sys.Close(fd);
        return r < 0 ? r : 0;
    }

    /// <summary>Loads the same kernel with the next round's command line and reboots into it. One kexec per round, so
    /// each round's load and reboot are tests of their own, named after the round's fault.</summary>
    private static int Next(int round, int stateChecks, string loadCheck, string rebootCheck)
    {
        byte* cmd = stackalloc byte[256];
        int n = 0;
        n = Append(cmd, n, "scenario=handover-faults hf_round=");
        n = AppendNumber(cmd, n, round);
        n = Append(cmd, n, " hf_num=");
        n = AppendNumber(cmd, n, Ktap.Number + stateChecks);
        n = Append(cmd, n, " hf_fail=");
        n = AppendNumber(cmd, n, Ktap.Failed);
        long k = Sys.Open("/sys/firmware/qemu_fw_cfg/by_name/opt/khoemu/kernel/raw");
        long load = Sys.KexecFileLoad(k, cmd, n);
        Sys.Close(k);
        Ktap.Expect(load, 0, loadCheck);
        long r = Sys.RebootKexec();
        Ktap.Expect(r, 0, rebootCheck);
        return 1;
    }

    private static int Append(byte* b, int n, string s)
    {
        for (int i = 0; i < s.Length; i++) b[n++] = (byte)s[i];
        return n;
    }

    private static int AppendNumber(byte* b, int n, long v)
    {
        byte* t = stackalloc byte[20];
        int k = 0;
        do { t[k++] = (byte)('0' + v % 10); v /= 10; } while (v != 0);
        while (k > 0) b[n++] = t[--k];
        return n;
    }

    // Round 0 (first kernel): preserving inside scratch is refused; a failing freeze leaves every file usable;
    // then the unknown-compatible round is set up.
    private static int Round0(long dev)
    {
        long p = Sys.Open("/sys/kernel/debug/kho/preserve");
        Ktap.Expect(Sys.WriteString(p, "scratch"), -Sys.EINVAL, "preserve_inside_scratch_refused");
        Sys.Close(p);

        long s = Luo.Session(dev, Luo.CreateSession, "freeze");
        long f0 = Memfd(1, 8192, out ulong s0), f1 = Memfd(2, 8192, out ulong s1), f2 = Memfd(3, 8192, out ulong s2);
        Ktap.Check(Luo.Preserve(s, f0, 1) == 0 && Luo.Preserve(s, f1, 2) == 0 && Luo.Preserve(s, f2, 3) == 0,
            "preserve_for_freeze_test", "PRESERVE_FD failed");
        Ktap.Expect(Arm("freeze-fail:1"), 0, "arm_freeze_failure");
        long k = Sys.Open("/sys/firmware/qemu_fw_cfg/by_name/opt/khoemu/kernel/raw");
        byte* cmd = stackalloc byte[64];
        int n = Append(cmd, 0, "scenario=handover-faults hf_round=99");
        Sys.KexecFileLoad(k, cmd, n);
        Sys.Close(k);
        Ktap.Expect(Sys.RebootKexec(), -Sys.EIO, "failing_freeze_fails_reboot");
        bool usable = Intact(f0, 8192, s0) && Intact(f1, 8192, s1) && Intact(f2, 8192, s2)
            && Sys.Lseek(f1, 0, 0) == 0 && Sys.Write(f1, s_buf, 64) == 64;
        Ktap.Check(usable, "files_usable_after_failed_freeze", "a file was left frozen or changed");
        Arm("none");
        Ktap.Expect(Sys.Close(s), 0, "close_freeze_session");

        // Round 1 setup: three memfds, the middle one serialized with an unknown compatible.
        long u = Luo.Session(dev, Luo.CreateSession, "unknown-compat");
        long a = Memfd(10, 4096, out _), b = Memfd(11, 4096, out _), c = Memfd(12, 4096, out _);
        Ktap.Check(Luo.Preserve(u, a, 10) == 0 && Luo.Preserve(u, b, 11) == 0 && Luo.Preserve(u, c, 12) == 0
            && Arm("unknown-compatible:1") == 0, "setup_unknown_compatible", "setup failed");
        return Next(1, 1, "kexec_file_load_unknown_compatible", "reboot_kexec_unknown_compatible");
    }

    private static int Round1(long dev)
    {
        Ktap.Check(true, "boot_after_unknown_compatible", "");
        long u = Luo.Session(dev, Luo.RetrieveSession, "unknown-compat");
        long a = Luo.Retrieve(u, 10), c = Luo.Retrieve(u, 12);
        Ktap.Check(Intact(a, 4096, Sum(10, 4096)) && Intact(c, 4096, Sum(12, 4096)), "intact_items_restored", "token 10 or 12 missing or changed");
        Ktap.Expect(Luo.Retrieve(u, 11), -Sys.EIO, "unknown_compatible_reported");
        Ktap.Check(Sys.ReadNumber("/sys/kernel/debug/kho/unrestored") > 0, "broken_item_memory_stays_reserved", "no block left reserved");

        long d = Luo.Session(dev, Luo.CreateSession, "dup-token");
        long x = Memfd(20, 4096, out _), y = Memfd(21, 4096, out _), z = Memfd(22, 4096, out _);
        Ktap.Check(Luo.Preserve(d, x, 20) == 0 && Luo.Preserve(d, y, 21) == 0 && Luo.Preserve(d, z, 22) == 0
            && Arm("duplicate-token:2") == 0, "setup_duplicate_token", "setup failed");
        return Next(2, 1, "kexec_file_load_duplicate_token", "reboot_kexec_duplicate_token");
    }

    private static ulong Sum(ulong seed, ulong bytes)
    {
        // The checksum Pattern.Fill produced for (seed, bytes), recomputed without a file.
        ulong h = 0xCBF2_9CE4_8422_2325UL;
        for (ulong i = 0; i < bytes / 8; i++) h = Pattern.Mix(h, Pattern.Next(ref seed));
        return h;
    }

    private static int Round2(long dev)
    {
        Ktap.Check(true, "boot_after_duplicate_token", "");
        long d = Luo.Session(dev, Luo.RetrieveSession, "dup-token");
        long x = Luo.Retrieve(d, 20), y = Luo.Retrieve(d, 21);
        Ktap.Check(Intact(x, 4096, Sum(20, 4096)) && Intact(y, 4096, Sum(21, 4096)), "first_of_duplicates_and_others_restored", "token 20 or 21 wrong");
        Ktap.Expect(Luo.Retrieve(d, 22), -Sys.ENOENT, "overwritten_token_absent");
        Ktap.Check(Sys.ReadNumber("/sys/kernel/debug/kho/unrestored") > 0, "duplicate_entry_memory_reserved", "no block left reserved");

        long cs = Luo.Session(dev, Luo.CreateSession, "corrupt");
        long m = Memfd(30, 4096, out _);
        Ktap.Check(Luo.Preserve(cs, m, 30) == 0 && Arm("corrupt-fdt") == 0, "setup_corrupt_fdt", "setup failed");
        return Next(3, 1, "kexec_file_load_corrupt_fdt", "reboot_kexec_corrupt_fdt");
    }

    private static int Round3(long dev)
    {
        Ktap.Check(true, "boot_after_corrupt_fdt", "");
        Ktap.Expect(Luo.Session(dev, Luo.RetrieveSession, "corrupt"), -Sys.ENOENT, "corrupt_sessions_not_restored");
        Ktap.Check(Sys.ReadNumber("/sys/kernel/debug/kho/unrestored") > 0, "corrupt_fdt_memory_reserved", "no block left reserved");

        long t = Luo.Session(dev, Luo.CreateSession, "truncated");
        long big = Sys.MemfdCreate("big");
        Sys.Ftruncate(big, 4 << 20);               // 2 MiB blocks: they land in a later map chunk
        Sys.Lseek(big, 0, 0);
        Pattern.Fill(big, 8192, 40, s_buf, 4096);
        long small = Memfd(41, 4096, out _);
        Ktap.Check(Luo.Preserve(t, big, 40) == 0 && Luo.Preserve(t, small, 41) == 0 && Arm("truncate-map") == 0,
            "setup_truncated_map", "setup failed");
        return Next(4, 1, "kexec_file_load_truncated_map", "reboot_kexec_truncated_map");
    }

    private static int Round4(long dev)
    {
        Ktap.Check(true, "boot_after_truncated_map", "");
        long t = Luo.Session(dev, Luo.RetrieveSession, "truncated");
        Ktap.Check(Intact(Luo.Retrieve(t, 41), 4096, Sum(41, 4096)), "item_in_listed_memory_restored", "token 41 missing or changed");
        Ktap.Expect(Luo.Retrieve(t, 40), -Sys.EINVAL, "item_outside_truncated_map_refused");
        Ktap.Check(Sys.ReadNumber("/sys/kernel/debug/kho/quarantined") > 0, "unlisted_blocks_quarantined", "its blocks were not kept reserved");
        return Ktap.Failed == 0 ? 0 : 1;
    }
}
