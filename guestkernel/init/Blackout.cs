namespace KhoEmu.Init;

/// <summary>
/// Scenario blackout (for the benchmark): one memfd of blackout_mib MiB preserved across a kexec. The kernel marks
/// the start of the blackout when reboot(KEXEC) begins freezing; stage 2 marks its end once the file is retrieved
/// (/sys/kernel/debug/kho/blackout_end). Preserving is metadata only, so the gap should not grow with the size.
/// </summary>
public static unsafe class Blackout
{
    public static int Run()
    {
        long dev = Sys.Open("/dev/liveupdate");
        long s = Luo.Session(dev, Luo.RetrieveSession, "blackout");
        if (s >= 0)
        {
            long fd = Luo.Retrieve(s, 1);
            long end = Sys.Open("/sys/kernel/debug/kho/blackout_end");
            Sys.WriteString(end, "1");
            long size = Sys.Lseek(fd, 0, 2);
            Ktap.Plan(1);
            Ktap.Expect(size, Cmdline.Number("blackout_mib", 16) << 20, "memfd_retrieved_with_its_size");
            return size > 0 && Luo.FinishSession(s) == 0 ? 0 : 1;
        }
        long mib = Cmdline.Number("blackout_mib", 16);
        long session = Luo.Session(dev, Luo.CreateSession, "blackout");
        long m = Sys.MemfdCreate("blackout");
        if (Sys.Ftruncate(m, mib << 20) != 0 || Luo.Preserve(session, m, 1) != 0 || Luo.LoadSameKernel() != 0) return 2;
        Sys.RebootKexec();
        return 3;
    }
}
