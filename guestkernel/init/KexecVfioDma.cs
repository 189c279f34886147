using Internal.Runtime;

namespace KhoEmu.Init;

/// <summary>
/// Scenario kexec-vfio-dma: devices assigned to ring 3 keep their IOMMU domain across a kexec. The DMA engine runs
/// through the whole jump (its ring is a preserved memfd mapped through iommufd); after retrieving iommufd, the
/// memfds and the vfio devices, ring 3 checks the ring has no gap and no fault, stops and restarts the engine, does an
/// edu DMA round trip, and checks isolation (a write to a read-only IOVA is refused) before and after the kexec.
/// </summary>
public static unsafe class KexecVfioDma
{
    private const string StateSession = "kexec-vfio-dma-state";
    internal const ulong RingIova = 0x10_0000, RingBytes = 64 * 1024, Entries = RingBytes / 16;
    private const ulong EduIova = 0x20_0000, RoIova = 0x30_0000;
    private const ulong UnmappedIova = 0x40_0000;     // inside no mapping of the IOAS
    private const ulong TokIommufd = 1, TokRing = 2, TokEduBuf = 3, TokEngine = 4, TokEdu = 5, TokRo = 6, TokState = 0x57;
    private const int Stage1Tests = 9, Stage2Tests = 9;

    private struct State            // starts like ScenarioState: Magic, NextTest, Failed
    {
        public ulong Magic, NextTest, Failed, WrittenAtFreeze, EduSum, RoSum;
        public ulong HaveEngine;
    }

    public static int Run()
    {
        long dev = Sys.Open("/dev/liveupdate");
        long st = dev >= 0 ? Luo.Session(dev, Luo.RetrieveSession, StateSession) : -1;
        return st >= 0 ? Stage2(dev, st) : Stage1(dev);
    }

    private static byte* Buffer() => (byte*)Heap.Allocate(4096);

    /// <summary>
    /// Isolation: edu writes aimed at the read-only IOVA and at an IOVA no mapping covers must each fault (the VT-d
    /// fault record names that IOVA) and change nothing: the read-only page and the edu buffer memfd keep their sums.
    /// </summary>
    private static bool Isolated(long edu, long ro, long ebuf, State s)
    {
        Sys.ReadNumber(FaultFile);                                    // clear any stale record
        Vfio.EduDma(edu, Vfio.EduBuffer, RoIova, Vfio.EduChunk, toRam: true);
        long roFault = Sys.ReadNumber(FaultFile);
        Vfio.EduDma(edu, Vfio.EduBuffer, UnmappedIova, Vfio.EduChunk, toRam: true);
        long unmappedFault = Sys.ReadNumber(FaultFile);
        Out.Str("# isolation: fault at ");
        Out.Hex((ulong)roFault);
        Out.Str(" (read-only) and ");
        Out.Hex((ulong)unmappedFault);
        Out.Str(" (unmapped)\n");
        Sys.Lseek(ro, 0, 0);
        bool roSame = Pattern.Sum(ro, 4096, Buffer(), 4096) == s.RoSum;
        Sys.Lseek(ebuf, 0, 0);
        bool bufSame = Pattern.Sum(ebuf, 4096, Buffer(), 4096) == s.EduSum;
        return roFault == (long)RoIova && unmappedFault == (long)UnmappedIova && roSame && bufSame;
    }

    private const string FaultFile = "/sys/kernel/debug/iommu/last_fault";

    /// <summary>Checks the ring holds the last <see cref="Entries"/> records, each slot k the newest sequence ≡ k.</summary>
    internal static bool RingContinuous(long ring, ulong written)
    {
        // Before the ring wraps, slot k must hold sequence k; after, the newest sequence congruent to k.
        ulong* rec = stackalloc ulong[2];
        Sys.Lseek(ring, 0, 0);
        ulong slots = written < Entries ? written : Entries;
        for (ulong k = 0; k < slots; k++)
        {
            if (Sys.Read(ring, rec, 16) != 16) return false;
            ulong seq = rec[0];
            if (seq % Entries != k || seq >= written || (written >= Entries && seq < written - Entries)) return false;
        }
        return written > 0;
    }

    private static int Stage1(long dev)
    {
        Ktap.Plan(Stage1Tests + Stage2Tests);
        var s = new State { Magic = ScenarioState.MagicValue };
        long iommufd = Sys.Open("/dev/iommu");
        long ioas = iommufd >= 0 ? Vfio.AllocIoas(iommufd) : -1;
        long ring = Sys.MemfdCreate("ring"), ebuf = Sys.MemfdCreate("edu-buffer"), ro = Sys.MemfdCreate("read-only");
        Sys.Ftruncate(ring, (long)RingBytes);
        Sys.Ftruncate(ebuf, 8192);
        Sys.Lseek(ebuf, 0, 0);
        s.EduSum = Pattern.Fill(ebuf, 4096, 5, Buffer(), 4096);
        s.RoSum = Pattern.Fill(ro, 4096, 6, Buffer(), 4096);
        bool mapped = ioas > 0 && Vfio.MapFile(iommufd, ioas, ring, 0, RingBytes, RingIova, true) == 0
            && Vfio.MapFile(iommufd, ioas, ebuf, 0, 8192, EduIova, true) == 0 && Vfio.MapFile(iommufd, ioas, ro, 0, 4096, RoIova, false) == 0;
        Ktap.Check(mapped, "iommufd_maps_memfds", "IOAS_ALLOC or IOAS_MAP_FILE failed");

        long engine = Sys.Open("/dev/vfio/devices/vfio0");
        s.HaveEngine = engine >= 0 ? 1UL : 0;
        if (engine < 0)
        {
            Out.Str("# no DMA engine: open(vfio0) = ");
            Out.Dec(engine);
            Out.Str("\n");
        }
        long edu = Sys.Open("/dev/vfio/devices/vfio1");
        bool bound = edu >= 0 && Vfio.Bind(edu, iommufd) == 0 && Vfio.Attach(edu, ioas) == 0
            && (engine < 0 || (Vfio.Bind(engine, iommufd) == 0 && Vfio.Attach(engine, ioas) == 0));
        Ktap.Check(bound, "vfio_devices_bound", "bind or attach failed");
        if (engine >= 0)
        {
            Vfio.Write(engine, 0x08, RingIova);
            Vfio.Write(engine, 0x10, Entries, 4);
            Vfio.Write(engine, 0x14, 20_000, 4);
            Vfio.Write(engine, 0x18, 1, 4);
        }

        bool copied = Vfio.EduCopyPage(edu, EduIova, EduIova + 4096);
        Sys.Lseek(ebuf, 4096, 0);
        Ktap.Check(copied && Pattern.Sum(ebuf, 4096, Buffer(), 4096) == s.EduSum, "edu_dma_round_trip_before_kexec", "copy differs");
        Ktap.Check(Isolated(edu, ro, ebuf, s), "isolation_before_kexec", "a DMA outside the writeable mappings got through or did not fault");

        long session = Luo.Session(dev, Luo.CreateSession, "vfio");
        Ktap.Expect(engine >= 0 ? Luo.Preserve(session, engine, TokEngine) : -Sys.EINVAL, -Sys.EINVAL, "vfio_needs_iommufd_preserved_first");
        bool preserved = Luo.Preserve(session, iommufd, TokIommufd) == 0 && Luo.Preserve(session, ring, TokRing) == 0
            && Luo.Preserve(session, ebuf, TokEduBuf) == 0 && Luo.Preserve(session, ro, TokRo) == 0
            && Luo.Preserve(session, edu, TokEdu) == 0 && (engine < 0 || Luo.Preserve(session, engine, TokEngine) == 0);
        Ktap.Check(preserved, "preserve_iommufd_memfds_and_devices", "PRESERVE_FD failed");
        Ktap.Expect(Vfio.MapFile(iommufd, ioas, ebuf, 0, 4096, UnmappedIova, writable: true), -Sys.EBUSY, "mappings_frozen_while_preserved");
        long load = Luo.LoadSameKernel();
        long stSession = Luo.Session(dev, Luo.CreateSession, StateSession);
        long stateFd = Sys.MemfdCreate("state");
        s.NextTest = (ulong)Ktap.Number + 2;   // prepare_kexec, then reboot_kexec (reported by stage 2)
        s.Failed = (ulong)Ktap.Failed;
        s.WrittenAtFreeze = engine >= 0 ? Vfio.Read(engine, 0x28) : 0;
        Sys.Write(stateFd, &s, sizeof(State));
        Ktap.Check(load == 0 && stSession >= 0 && Luo.Preserve(stSession, stateFd, TokState) == 0, "prepare_kexec", "load or state failed");
        Ktap.Note("kexec-vfio-dma: jumping with the DMA engine running");
        Ktap.Expect(Sys.RebootKexec(), 0, "reboot_kexec");
        return 1;
    }

    private static int Stage2(long dev, long stateSession)
    {
        var s = default(State);
        ScenarioState.Resume(stateSession, TokState, &s, sizeof(State), "state lost");

        long session = Luo.Session(dev, Luo.RetrieveSession, "vfio");
        Ktap.Expect(Luo.Retrieve(session, s.HaveEngine == 1 ? TokEngine : TokEdu), -Sys.EAGAIN, "vfio_needs_iommufd_retrieved_first");
        long iommufd = Luo.Retrieve(session, TokIommufd);
        long ring = Luo.Retrieve(session, TokRing), ebuf = Luo.Retrieve(session, TokEduBuf), ro = Luo.Retrieve(session, TokRo);
        long edu = Luo.Retrieve(session, TokEdu);
        long engine = s.HaveEngine == 1 ? Luo.Retrieve(session, TokEngine) : -1;
        Ktap.Check(iommufd >= 0 && ring >= 0 && ebuf >= 0 && ro >= 0 && edu >= 0 && (s.HaveEngine == 0 || engine >= 0),
            "retrieve_iommufd_memfds_and_devices", "a RETRIEVE_FD failed");

        if (engine >= 0)
        {
            ulong written = Vfio.Read(engine, 0x28), faults = Vfio.Read(engine, 0x30);
            bool running = (Vfio.Read(engine, 0x1C, 4) & 1) == 1;
            Ktap.Check(running && written > s.WrittenAtFreeze, "engine_kept_running_through_kexec", "the engine stopped or wrote nothing");
            Ktap.Expect((long)faults, 0, "zero_iommu_faults_across_kexec");
            Vfio.Write(engine, 0x18, 0, 4);                           // ring 3 stops the engine ...
            written = Vfio.Read(engine, 0x28);
            Out.Str("# engine: ");
            Out.Dec((long)s.WrittenAtFreeze);
            Out.Str(" records at freeze, ");
            Out.Dec((long)written);
            Out.Str(" now, next sequence ");
            Out.Dec((long)Vfio.Read(engine, 0x20));
            Out.Str("\n");
            Ktap.Check(RingContinuous(ring, written) && written - s.WrittenAtFreeze < Entries, "ring_has_no_gap_across_kexec",
                "a sequence number is missing around the jump");
            Vfio.Write(engine, 0x18, 1, 4);                           // ... and restarts it
            for (int spin = 0; spin < 2_000_000 && Vfio.Read(engine, 0x28) < written + 50; spin++) { }
            Ktap.Check(Vfio.Read(engine, 0x28) >= written + 50 && Vfio.Read(engine, 0x30) == 0, "engine_restarted_by_ring3", "no progress after restart");
            Vfio.Write(engine, 0x18, 0, 4);
        }
        else
        {
            Ktap.Skip("engine_kept_running_through_kexec", "no DMA engine on this machine");
            Ktap.Skip("zero_iommu_faults_across_kexec", "no DMA engine on this machine");
            Ktap.Skip("ring_has_no_gap_across_kexec", "no DMA engine on this machine");
            Ktap.Skip("engine_restarted_by_ring3", "no DMA engine on this machine");
        }

        Sys.Lseek(ebuf, 4096, 0);
        Sys.Write(ebuf, Buffer(), 4096);                              // clear the copy, then copy again
        bool copied = Vfio.EduCopyPage(edu, EduIova, EduIova + 4096);
        Sys.Lseek(ebuf, 4096, 0);
        Ktap.Check(copied && Pattern.Sum(ebuf, 4096, Buffer(), 4096) == s.EduSum, "edu_dma_round_trip_after_kexec", "copy differs");
        Ktap.Check(Isolated(edu, ro, ebuf, s), "isolation_after_kexec", "a DMA outside the writeable mappings got through or did not fault");
        Ktap.Check(Luo.FinishSession(session) == 0 && Luo.FinishSession(stateSession) == 0, "finish_sessions", "FINISH failed");
        return Ktap.Failed == 0 ? 0 : 1;
    }
}
