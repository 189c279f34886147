using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using KhoEmu.Harness;
using KhoEmu.Machine;
using KhoEmu.Machine.Snapshots;

namespace KhoEmu.Bench;

/// <summary>
/// Snapshot and restore (docs/snapshots.md, "Measured"): the 512 MiB scenario machine after its boot scenario ran,
/// and a 64 GiB machine of which 100 MiB of pages (spread over all of RAM, incompressible bytes) were written. Save is
/// TakeSnapshot plus writing the file; restore is reading and checking the file plus loading it into a freshly built
/// machine (built outside the measurement). The file sizes are printed during setup. A short in-process job (one
/// warm-up, five iterations of one invocation): snapshot files are large and the figures are milliseconds.
/// </summary>
[Config(typeof(ShortInProcess))]
public class SnapshotBenchmark
{
    private sealed class ShortInProcess : ManualConfig
    {
        public ShortInProcess() => AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithStrategy(RunStrategy.Monitoring)
            .WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(5).WithInvocationCount(1).WithUnrollFactor(1));
    }

    [Params("scenario-512M", "sparse-64G")]
    public string Machine { get; set; } = "";

    private PcMachine _source = null!;
    private PcMachine? _target;
    private string _path = "";

    [GlobalSetup]
    public void Setup()
    {
        _path = Path.Combine(Path.GetTempPath(), $"khoemu-bench-{Machine}.snap");
        if (Machine == "scenario-512M")
        {
            var s = Scenarios.Find("boot")!;
            _source = new PcMachine(Scenarios.Config(s, Stream.Null));
            _source.Run(s.InstructionBudget);
        }
        else
        {
            _source = new PcMachine(new MachineConfig { MemorySize = 64UL << 30 });
            _source.Run(100_000);
            var rng = new Random(1);
            var page = new byte[4096];
            const int pages = 100 * 256;
            ulong stride = (_source.Memory.HighRamSize / 4096 / pages) * 4096;
            for (int i = 0; i < pages; i++)
            {
                rng.NextBytes(page);
                _source.Memory.Write(KhoEmu.Memory.PhysicalMemory.HighMemoryBase + (ulong)i * stride, page);
            }
        }
        long size = _source.TakeSnapshot("bench").Write(_path);
        var file = SnapshotFile.Read(_path);
        long raw = file.Table.Where(e => e.Name.StartsWith(RamSnapshot.Prefix, StringComparison.Ordinal)).Sum(e => (long)e.RawLength);
        long pagesSaved = file.Sections.Where(x => x.Name.StartsWith(RamSnapshot.Prefix, StringComparison.Ordinal)).Sum(x => (long)BitConverter.ToUInt32(x.Data, 0));
        Console.WriteLine($"// {Machine}: {pagesSaved} pages ({pagesSaved * 4096 >> 20} MiB) saved; RAM sections {raw} bytes before compression "
            + $"({(double)raw / (pagesSaved * 4096):F4}x the touched bytes), file {size} bytes");
    }

    [IterationSetup(Target = nameof(Restore))]
    public void FreshTarget() => _target = new PcMachine(_source.Config);

    [IterationCleanup(Target = nameof(Restore))]
    public void DropTarget()
    {
        _target?.Dispose();
        _target = null;
    }

    [Benchmark]
    public long Save() => _source.TakeSnapshot("bench").Write(_path);

    [Benchmark]
    public ulong Restore()
    {
        _target!.Restore(SnapshotFile.Read(_path));
        return _target.InstructionCount;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _source.Dispose();
        File.Delete(_path);
    }
}
