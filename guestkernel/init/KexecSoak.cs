namespace KhoEmu.Init;

/// <summary>
/// Scenario kexec-soak: <c>cycles=N</c> kexecs in one boot (default 3). Each cycle preserves two memfds whose sizes
/// and contents change with the cycle number, and the iommufd, DMA ring and DMA engine (running through every jump,
/// re-preserved after each retrieval); after each kexec ring 3 checks the contents, the DMA records (more than at the
/// freeze, no fault, no gap in the ring) and prints the guest's free memory (/proc/meminfo, measured at the same point
/// of every cycle: the previous cycle's files finished and closed, the next ones not yet made). The last cycle fails
/// <c>free_memory_flat</c> if free memory at any cycle fell below the first post-kexec cycle's.
/// </summary>
public static unsafe class KexecSoak
{
    private const string StateSession = "kexec-soak-state", DataSession = "soak-data", VfioSession = "soak-vfio";
    private const ulong TokA = 1, TokB = 2, TokIommufd = 11, TokRing = 12, TokEngine = 13, TokState = 0x50AC;
    private const ulong BufSize = 64 * 1024;

    private struct State            // starts like ScenarioState: Magic, NextTest, Failed
    {
        public ulong Magic, NextTest, Failed, Cycle, Cycles;
        public ulong SumA, SumB, SizeA, SizeB, WrittenAtFreeze;
        public ulong FreeFirst, FreeMin, FreeMinCycle;
    }

    public static int Run()
    {
        long dev = Sys.Open("/dev/liveupdate");
        long st = dev >= 0 ? Luo.Session(dev, Luo.RetrieveSession, StateSession) : -1;
        return st >= 0 ? Next(dev, st) : First(dev);
    }

    private static ulong SizeA(ulong k) => 4096 * (1 + k % 5) + 8 * (k % 97);
    private static ulong SizeB(ulong k) => 65536 - 8 * (k % 61);

    /// <summary>One KTAP result named cycle_K_WHAT (distinct per cycle), counted in <see cref="Ktap"/>'s totals.</summary>
    private static void Result(bool ok, ulong cycle, string what, string reason)
    {
        Ktap.Number++;
        if (!ok) Ktap.Failed++;
        Out.Str(ok ? "ok " : "not ok ");
        Out.Dec(Ktap.Number);
        Out.Str(" cycle_");
        Out.Dec((long)cycle);
        Out.Str("_");
        Out.Str(what);
        if (!ok)
        {
            Out.Str(" # ");
            Out.Str(reason);
        }
        Out.Str("\n");
    }

    /// <summary>MemFree from /proc/meminfo in KiB, or 0.</summary>
    private static ulong FreeKib()
    {
        long fd = Sys.Open("/proc/meminfo");
        if (fd < 0) return 0;
        byte* b = stackalloc byte[512];
        long n = Sys.Read(fd, b, 511);
        Sys.Close(fd);
        const string key = "MemFree:";
        for (long i = 0; i + key.Length < n; i++)
        {
            bool match = i == 0 || b[i - 1] == '\n';
            for (int k = 0; k < key.Length && match; k++) match = b[i + k] == key[k];
            if (!match) continue;
            long j = i + key.Length;
            while (j < n && b[j] == ' ') j++;
            ulong v = 0;
            for (; j < n && b[j] >= '0' && b[j] <= '9'; j++) v = v * 10 + (ulong)(b[j] - '0');
            return v;
        }
        return 0;
    }

    private static int First(long dev)
    {
        long cycles = Cmdline.Number("cycles", 3);
        if (cycles < 1) cycles = 1;
        Ktap.Plan(1 + 5 * (int)cycles + 2);   // setup; per cycle prepare, kexec, contents, DMA, finish; two at the end
        Ktap.Note("kexec-soak: kexecs with memfds and the DMA engine running through each");
        long iommufd = Sys.Open("/dev/iommu");
        long ioas = iommufd >= 0 ? Vfio.AllocIoas(iommufd) : -1;
        long ring = Sys.MemfdCreate("ring");
        Sys.Ftruncate(ring, (long)KexecVfioDma.RingBytes);
        long engine = Sys.Open("/dev/vfio/devices/vfio0");
        bool ok = dev >= 0 && ioas > 0 && Vfio.MapFile(iommufd, ioas, ring, 0, KexecVfioDma.RingBytes, KexecVfioDma.RingIova, true) == 0
            && engine >= 0 && Vfio.Bind(engine, iommufd) == 0 && Vfio.Attach(engine, ioas) == 0;
        if (ok)
        {
            Vfio.Write(engine, 0x08, KexecVfioDma.RingIova);
            Vfio.Write(engine, 0x10, KexecVfioDma.Entries, 4);
            Vfio.Write(engine, 0x14, 20_000, 4);
            Vfio.Write(engine, 0x18, 1, 4);
        }
        Ktap.Check(ok, "setup_dma_engine_through_iommufd", "/dev/liveupdate, iommufd, the ring memfd or the engine failed");
        var s = new State { Magic = ScenarioState.MagicValue, Cycles = (ulong)cycles };
        return ok ? Prepare(dev, &s, 1, iommufd, ring, engine) : 1;
    }

    /// <summary>Preserves cycle <paramref name="k"/>'s memfds, the DMA files and the state, then kexecs.</summary>
    private static int Prepare(long dev, State* s, ulong k, long iommufd, long ring, long engine)
    {
        byte* buf = (byte*)Internal.Runtime.Heap.Allocate((nuint)BufSize);
        long data = Luo.Session(dev, Luo.CreateSession, DataSession);
        long vfio = Luo.Session(dev, Luo.CreateSession, VfioSession);
        long a = Sys.MemfdCreate("soak-a"), b = Sys.MemfdCreate("soak-b");
        s->Cycle = k;
        s->SizeA = SizeA(k);
        s->SizeB = SizeB(k);
        s->SumA = Pattern.Fill(a, s->SizeA, k * 0x9E37 + 1, buf, BufSize);
        s->SumB = Pattern.Fill(b, s->SizeB, k + 1000, buf, BufSize);
        bool ok = Step(data, "create session soak-data") && Step(vfio, "create session soak-vfio")
            && Step(s->SumA != 0 && s->SumB != 0 ? 0 : -1, "fill the memfds")
            && Step(Luo.Preserve(data, a, TokA), "preserve memfd a") && Step(Luo.Preserve(data, b, TokB), "preserve memfd b")
            && Step(Luo.Preserve(vfio, iommufd, TokIommufd), "preserve iommufd") && Step(Luo.Preserve(vfio, ring, TokRing), "preserve the ring memfd")
            && Step(Luo.Preserve(vfio, engine, TokEngine), "preserve the DMA engine");
        Sys.Close(a);
        Sys.Close(b);
        long stSession = -1, stateFd = -1;
        ok = ok && Step(Luo.LoadSameKernel(), "kexec_file_load")
            && Step(stSession = Luo.Session(dev, Luo.CreateSession, StateSession), "create the state session")
            && Step(stateFd = Sys.MemfdCreate("state"), "memfd_create state");
        s->NextTest = (ulong)Ktap.Number + 2;   // this prepare check, then cycle_K_kexec (reported after the jump)
        s->Failed = (ulong)Ktap.Failed;
        s->WrittenAtFreeze = Vfio.Read(engine, 0x28);
        ok = ok && Step(Sys.Write(stateFd, s, sizeof(State)) == sizeof(State) ? 0 : -1, "write the state")
            && Step(Luo.Preserve(stSession, stateFd, TokState), "preserve the state");
        Result(ok, k, "prepare", "a step failed (the line above names it)");
        if (!ok) return 1;                     // no jump: the report ends short, which fails the run
        long r = Sys.RebootKexec();
        Result(false, k, "kexec", "reboot(LINUX_REBOOT_CMD_KEXEC) returned");
        Out.Dec(r);
        Out.Str("\n");
        return 1;
    }

    /// <summary>True for a result >= 0; otherwise prints which step failed and with what.</summary>
    private static bool Step(long result, string what)
    {
        if (result >= 0) return true;
        Out.Str("# kexec-soak: ");
        Out.Str(what);
        Out.Str(" failed: ");
        Out.Dec(result);
        Out.Str("\n");
        return false;
    }

    private static int Next(long dev, long stateSession)
    {
        byte* buf = (byte*)Internal.Runtime.Heap.Allocate((nuint)BufSize);
        var s = default(State);
        long stateFd = Luo.Retrieve(stateSession, TokState);
        if (stateFd >= 0)
        {
            Sys.Lseek(stateFd, 0, 0);      // a preserved memfd keeps its position: the end of what Prepare wrote
            Sys.Read(stateFd, &s, sizeof(State));
        }
        Ktap.Number = (int)s.NextTest - 1;
        Ktap.Failed = (int)s.Failed;
        ulong k = s.Cycle;
        Result(stateFd >= 0 && s.Magic == ScenarioState.MagicValue && k >= 1 && k <= s.Cycles, k, "kexec", "the state came back wrong");

        long data = Luo.Session(dev, Luo.RetrieveSession, DataSession);
        long a = Luo.Retrieve(data, TokA), b = Luo.Retrieve(data, TokB);
        bool sizes = Sys.Lseek(a, 0, 2) == (long)s.SizeA && Sys.Lseek(b, 0, 2) == (long)s.SizeB;
        Sys.Lseek(a, 0, 0);
        Sys.Lseek(b, 0, 0);
        bool same = Pattern.Sum(a, s.SizeA, buf, BufSize) == s.SumA && Pattern.Sum(b, s.SizeB, buf, BufSize) == s.SumB;
        Result(a >= 0 && b >= 0 && sizes && same, k, "memfd_contents", "a memfd is missing or its size or contents differ");

        long vfio = Luo.Session(dev, Luo.RetrieveSession, VfioSession);
        long iommufd = Luo.Retrieve(vfio, TokIommufd), ring = Luo.Retrieve(vfio, TokRing), engine = Luo.Retrieve(vfio, TokEngine);
        bool have = iommufd >= 0 && ring >= 0 && engine >= 0;
        ulong written = have ? Vfio.Read(engine, 0x28) : 0, faults = have ? Vfio.Read(engine, 0x30) : 1;
        bool running = have && (Vfio.Read(engine, 0x1C, 4) & 1) == 1;
        if (have) Vfio.Write(engine, 0x18, 0, 4);                     // stop to read the ring without racing the engine
        ulong stopped = have ? Vfio.Read(engine, 0x28) : 0;
        bool continuous = have && KexecVfioDma.RingContinuous(ring, stopped);
        if (have) Vfio.Write(engine, 0x18, 1, 4);
        Result(running && written > s.WrittenAtFreeze && faults == 0 && continuous, k, "dma_records",
            "the engine stopped, wrote nothing since the freeze, faulted or left a gap");

        bool finished = Luo.FinishSession(data) == 0 && Luo.FinishSession(vfio) == 0 && Luo.FinishSession(stateSession) == 0;
        Sys.Close(a);
        Sys.Close(b);
        Sys.Close(stateFd);
        Sys.Close(data);
        Sys.Close(vfio);
        Sys.Close(stateSession);
        ulong free = FreeKib();
        if (k == 1) s.FreeFirst = s.FreeMin = free;
        if (free < s.FreeMin)
        {
            s.FreeMin = free;
            s.FreeMinCycle = k;
        }
        Out.Str("# soak: cycle ");
        Out.Dec((long)k);
        Out.Str(" guest_free_kib ");
        Out.Dec((long)free);
        Out.Str(" dma_records ");
        Out.Dec((long)stopped);
        Out.Str(" (+");
        Out.Dec((long)(stopped - s.WrittenAtFreeze));
        Out.Str(" since the freeze)\n");
        Result(finished && free > 0, k, "finish", "FINISH failed or /proc/meminfo unreadable");

        if (k < s.Cycles) return Prepare(dev, &s, k + 1, iommufd, ring, engine);

        if (have) Vfio.Write(engine, 0x18, 0, 4);
        bool flat = s.FreeMin >= s.FreeFirst;
        Ktap.Check(flat, "free_memory_flat", "guest free memory dropped below the first cycle's");
        if (!flat)
        {
            Out.Str("# lowest free memory ");
            Out.Dec((long)s.FreeMin);
            Out.Str(" KiB at cycle ");
            Out.Dec((long)s.FreeMinCycle);
            Out.Str(", first ");
            Out.Dec((long)s.FreeFirst);
            Out.Str(" KiB\n");
        }
        Ktap.Check(Sys.Close(engine) == 0 && Sys.Close(ring) == 0 && Sys.Close(iommufd) == 0, "close_dma_files", "close failed");
        return Ktap.Failed == 0 ? 0 : 1;
    }
}
