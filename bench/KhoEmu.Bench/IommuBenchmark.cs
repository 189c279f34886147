using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using KhoEmu.Core;
using KhoEmu.Devices.Iommu;
using KhoEmu.Machine;
using KhoEmu.Machine.Board;

namespace KhoEmu.Bench;

/// <summary>
/// The VT-d model: one translation that hits the IOTLB, one that misses (the IOTLB is invalidated first, so a
/// 4-level walk of guest memory follows), and DMA throughput of 4 KiB and 64 KiB device writes through the IOMMU,
/// bare and with the machine's DMA oracle checking every page against a fresh walk of the tables (as in scenarios).
/// </summary>
[MemoryDiagnoser]
public class IommuBenchmark
{
    private const ulong Root = 0x10_0000, Context = 0x10_1000, Pml4 = 0x10_2000, Pdpt = 0x10_3000, Pd = 0x10_4000, Pt = 0x10_5000;
    private const ulong Iova = 0x0800_0000, Ram = 0x100_0000;
    private PcMachine _m = null!, _checked = null!;
    private IGuestMemory _dma = null!, _dmaChecked = null!;
    private readonly byte[] _page = new byte[4096], _big = new byte[65536];

    private static void W64(PcMachine m, ulong pa, ulong v)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        m.Memory.Write(pa, b);
    }

    [GlobalSetup]
    public void Setup()
    {
        _m = NewMachine();
        _m.Iommu.DmaWritten = null;                      // the IOMMU alone
        _dma = _m.Iommu.ForDevice(1 << 3);
        _checked = NewMachine();
        _dmaChecked = _checked.Iommu.ForDevice(1 << 3);
    }

    private static PcMachine NewMachine()
    {
        var m = new PcMachine(new MachineConfig());
        const ushort sid = 1 << 3;
        void W64(ulong pa, ulong v) => IommuBenchmark.W64(m, pa, v);
        W64(Context + sid * 16, Pml4 | 1);
        W64(Context + sid * 16 + 8, 2 | (1UL << 8));
        W64(Root, Context | 1);
        W64(Pml4, Pdpt | 3);
        W64(Pdpt, Pd | 3);
        W64(Pd + ((Iova >> 21) & 511) * 8, Pt | 3);
        for (ulong i = 0; i < 512; i++) W64(Pt + i * 8, (Ram + i * 4096) | 3);
        m.Memory.Mmio.Write(Q35Layout.VtdBase + 0x20, 8, Root);
        m.Memory.Mmio.Write(Q35Layout.VtdBase + 0x18, 4, IntelIommu.GcmdSrtp);
        m.Memory.Mmio.Write(Q35Layout.VtdBase + 0x18, 4, IntelIommu.GcmdTe);
        m.Iommu.Translate(sid, Iova, true, out _);
        return m;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _m.Dispose();
        _checked.Dispose();
    }

    [Benchmark(Description = "translate, IOTLB hit")]
    public ulong TranslateHit()
    {
        _m.Iommu.Translate(1 << 3, Iova + 0x123, true, out ulong pa);
        return pa;
    }

    [Benchmark(Description = "translate, IOTLB miss (4-level walk)")]
    public ulong TranslateMiss()
    {
        _m.Memory.Mmio.Write(Q35Layout.VtdBase + 0xF8, 8, (1UL << 63) | (1UL << 60));   // global IOTLB invalidation
        _m.Iommu.Translate(1 << 3, Iova + 0x123, true, out ulong pa);
        return pa;
    }

    [Benchmark(Description = "DMA write 4 KiB through the IOMMU")]
    public bool Dma4K() => _dma.Write(Iova, _page);

    [Benchmark(Description = "DMA write 64 KiB through the IOMMU")]
    public bool Dma64K() => _dma.Write(Iova, _big);

    [Benchmark(Description = "DMA write 4 KiB, oracle checking")]
    public bool Dma4KChecked() => _dmaChecked.Write(Iova, _page);

    [Benchmark(Description = "DMA write 64 KiB, oracle checking")]
    public bool Dma64KChecked() => _dmaChecked.Write(Iova, _big);
}
