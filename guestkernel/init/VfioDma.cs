using Internal.Runtime;

namespace KhoEmu.Init;

/// <summary>iommufd and vfio from ring 3 (the Linux uAPI subset the kernel implements).</summary>
public static unsafe class Vfio
{
    public const uint IoasAlloc = 0x3B81, IoasUnmap = 0x3B86, IoasMapFile = 0x3B8F;
    public const uint BindIommufd = 0x3B00 | 118, AttachPt = 0x3B00 | 119;
    public const long NrPread = 17, NrPwrite = 18;

    public static long AllocIoas(long iommufd)
    {
        uint* s = stackalloc uint[3];
        s[0] = 12; s[1] = 0; s[2] = 0;
        long r = Sys.Ioctl(iommufd, IoasAlloc, s);
        return r < 0 ? r : s[2];
    }

    public static long MapFile(long iommufd, long ioas, long memfd, ulong start, ulong length, ulong iova, bool writable)
    {
        byte* s = stackalloc byte[40];
        *(uint*)s = 40;
        *(uint*)(s + 4) = 1u | 4u | (writable ? 2u : 0);    // fixed IOVA, readable, maybe writeable
        *(uint*)(s + 8) = (uint)ioas;
        *(int*)(s + 12) = (int)memfd;
        *(ulong*)(s + 16) = start;
        *(ulong*)(s + 24) = length;
        *(ulong*)(s + 32) = iova;
        return Sys.Ioctl(iommufd, IoasMapFile, s);
    }

    public static long Unmap(long iommufd, long ioas, ulong iova, ulong length)
    {
        byte* s = stackalloc byte[24];
        *(uint*)s = 24;
        *(uint*)(s + 4) = (uint)ioas;
        *(ulong*)(s + 8) = iova;
        *(ulong*)(s + 16) = length;
        return Sys.Ioctl(iommufd, IoasUnmap, s);
    }

    public static long Bind(long device, long iommufd)
    {
        uint* s = stackalloc uint[4];
        s[0] = 16; s[1] = 0; s[2] = (uint)iommufd; s[3] = 0;
        return Sys.Ioctl(device, BindIommufd, s);
    }

    public static long Attach(long device, long ioas)
    {
        uint* s = stackalloc uint[3];
        s[0] = 12; s[1] = 0; s[2] = (uint)ioas;
        return Sys.Ioctl(device, AttachPt, s);
    }

    public static ulong Read(long device, ulong offset, int size = 8)
    {
        ulong v = 0;
        Sys.Call(NrPread, device, (long)&v, size, (long)offset, 0);
        return v;
    }

    public static long Write(long device, ulong offset, ulong value, int size = 8) =>
        Sys.Call(NrPwrite, device, (long)&value, size, (long)offset, 0);

    /// <summary>edu's DMA buffer in device address space, and the largest transfer every edu model takes.</summary>
    public const ulong EduBuffer = 0x40000, EduChunk = 2048;

    /// <summary>One edu DMA through its vfio region (32-bit register writes); false if it did not finish.</summary>
    public static bool EduDma(long edu, ulong src, ulong dst, ulong count, bool toRam)
    {
        Write(edu, 0x80, src, 4);
        Write(edu, 0x88, dst, 4);
        Write(edu, 0x90, count, 4);
        Write(edu, 0x98, toRam ? 3UL : 1UL, 4);
        for (int spin = 0; spin < 5_000_000; spin++)
            if ((Read(edu, 0x98, 4) & 1) == 0) return true;
        return false;
    }

    /// <summary>Copies one 4 KiB page from IOVA to IOVA through edu's buffer, in <see cref="EduChunk"/> pieces.</summary>
    public static bool EduCopyPage(long edu, ulong fromIova, ulong toIova)
    {
        for (ulong off = 0; off < 4096; off += EduChunk)
            if (!EduDma(edu, fromIova + off, EduBuffer, EduChunk, false) || !EduDma(edu, EduBuffer, toIova + off, EduChunk, true))
                return false;
        return true;
    }
}

/// <summary>
/// Scenario vfio-dma: ring 3 maps memfd pages into an IOAS, binds the DMA engine and edu through vfio, runs DMA
/// into the memfds, and checks isolation (a DMA outside the mapped IOVA range faults and writes nothing).
/// </summary>
public static unsafe class VfioDma
{
    private const ulong RingIova = 0x10_0000, RingBytes = 64 * 1024, EduIova = 0x20_0000;

    public static int Run()
    {
        Ktap.Plan(8);
        long iommufd = Sys.Open("/dev/iommu");
        long ioas = iommufd >= 0 ? Vfio.AllocIoas(iommufd) : iommufd;
        Ktap.Check(iommufd >= 0 && ioas > 0, "iommufd_ioas_alloc", "open(/dev/iommu) or IOAS_ALLOC failed");

        long ring = Sys.MemfdCreate("ring");
        Sys.Ftruncate(ring, (long)RingBytes);
        Ktap.Expect(Vfio.MapFile(iommufd, ioas, ring, 0, RingBytes, RingIova, writable: true), 0, "map_ring_memfd");

        long engine = Sys.Open("/dev/vfio/devices/vfio0");
        if (engine < 0)
        {
            Ktap.Note("no DMA engine on this machine");
            // The names the four engine tests have where the engine exists (each result its own name).
            Ktap.Skip("vfio_bind_and_attach_engine", "no DMA engine on this machine");
            Ktap.Skip("engine_ring_continuous_in_memfd", "no DMA engine on this machine");
            Ktap.Skip("unmap_ring", "no DMA engine on this machine");
            Ktap.Skip("dma_outside_mapping_faults_and_writes_nothing", "no DMA engine on this machine");
        }
        else
        {
            Ktap.Check(Vfio.Bind(engine, iommufd) == 0 && Vfio.Attach(engine, ioas) == 0, "vfio_bind_and_attach_engine", "bind or attach failed");
            Vfio.Write(engine, 0x08, RingIova);
            Vfio.Write(engine, 0x10, RingBytes / 16, 4);
            Vfio.Write(engine, 0x14, 20_000, 4);
            Vfio.Write(engine, 0x18, 1, 4);
            for (int spin = 0; spin < 2_000_000 && Vfio.Read(engine, 0x28) < 200; spin++) { }
            Vfio.Write(engine, 0x18, 0, 4);
            ulong written = Vfio.Read(engine, 0x28), faults = Vfio.Read(engine, 0x30);
            bool continuous = written >= 200 && faults == 0;
            ulong* rec = stackalloc ulong[2];
            Sys.Lseek(ring, 0, 0);
            for (ulong i = 0; i < written && i < RingBytes / 16 && continuous; i++)
                continuous = Sys.Read(ring, rec, 16) == 16 && rec[0] == i;
            Ktap.Check(continuous, "engine_ring_continuous_in_memfd", "sequence gap or faults");

            // Isolation: unmap the ring; the engine's next writes must fault and change nothing.
            Sys.Lseek(ring, 0, 0);
            ulong before = Pattern.Sum(ring, RingBytes, (byte*)Heap.Allocate(4096), 4096);
            Ktap.Expect(Vfio.Unmap(iommufd, ioas, RingIova, RingBytes), 0, "unmap_ring");
            Vfio.Write(engine, 0x18, 1, 4);
            for (int spin = 0; spin < 2_000_000 && Vfio.Read(engine, 0x30) < 5; spin++) { }
            Vfio.Write(engine, 0x18, 0, 4);
            Sys.Lseek(ring, 0, 0);
            ulong after = Pattern.Sum(ring, RingBytes, (byte*)Heap.Allocate(4096), 4096);
            Ktap.Check(Vfio.Read(engine, 0x30) >= 5 && before == after, "dma_outside_mapping_faults_and_writes_nothing",
                "no faults, or the ring changed after unmap");
        }

        long edu = Sys.Open("/dev/vfio/devices/vfio1");
        long buf = Sys.MemfdCreate("edu");
        Sys.Ftruncate(buf, 8192);
        Sys.Lseek(buf, 0, 0);
        ulong sum = Pattern.Fill(buf, 4096, 77, (byte*)Heap.Allocate(4096), 4096);
        bool ok = edu >= 0 && Vfio.Bind(edu, iommufd) == 0 && Vfio.Attach(edu, ioas) == 0
            && Vfio.MapFile(iommufd, ioas, buf, 0, 8192, EduIova, writable: true) == 0;
        Ktap.Check(ok, "vfio_bind_edu_and_map_buffer", "edu bind/attach/map failed");
        ok = ok && Vfio.EduCopyPage(edu, EduIova, EduIova + 4096);
        Sys.Lseek(buf, 4096, 0);
        Ktap.Check(ok && Pattern.Sum(buf, 4096, (byte*)Heap.Allocate(4096), 4096) == sum, "edu_dma_round_trip_via_vfio",
            "copied page differs");
        return Ktap.Failed == 0 ? 0 : 1;
    }
}
