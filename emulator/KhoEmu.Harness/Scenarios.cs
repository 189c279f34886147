using System.Text;
using KhoEmu.Machine;

namespace KhoEmu.Harness;

/// <summary>A guest self-test run selected by the kernel command line <c>scenario=NAME</c>.</summary>
public sealed record Scenario(string Name, string Description, ulong MemorySize, ulong InstructionBudget);

/// <summary>The outcome of one scenario boot.</summary>
public sealed record ScenarioResult(Scenario Scenario, MachineExit Exit, KtapReport Report, string Serial, ulong Instructions,
    TimeSpan Wall, OracleReport Oracle)
{
    /// <summary>Passed: a complete KTAP report with no failures, a clean debug-exit and no KHO oracle violation.</summary>
    public bool Passed => Report.Problems.Count == 0 && Report.Failed == 0 && Exit.Kind == ExitKind.DebugExit && Exit.ExitCode == 1
        && Oracle.Violations.Count == 0;
}

/// <summary>What the host-side KHO oracle saw during a scenario.</summary>
public sealed record OracleReport(int Handovers, long PreservedBlocks, long PreservedBytes, long RestoredBlocks, long Unrestored,
    IReadOnlyList<string> Violations, string? HandoverProblem, long DeviceWrittenBlocks = 0, long DmaWritesChecked = 0);

public static class Scenarios
{
    public static IReadOnlyList<Scenario> All { get; } =
    [
        new("boot", "kernel self-tests: memory map, page allocator, heap, statics, SSE, timer interrupts, page faults, ring-3 init",
            512UL << 20, 2_000_000_000),
        new("devices", "PCI enumeration, the VT-d driver, edu INTx through the I/O APIC, edu DMA through the IOMMU and its isolation, the continuous DMA engine",
            512UL << 20, 2_000_000_000),
        new("vfio-dma", "ring 3 drives the DMA engine and edu through iommufd and vfio: DMA into memfds, isolation outside the mapped range",
            512UL << 20, 2_000_000_000),
        new("kexec-vfio-dma", "the DMA engine keeps writing through the IOMMU during a kexec: no gap, no fault; iommufd and vfio survive; edu and isolation before and after",
            512UL << 20, 4_000_000_000),
        new("kexec-memfd", "memfds in two live-update sessions survive a kexec: contents, size, position, tokens, liveupdate-number",
            512UL << 20, 4_000_000_000),
        new("handover-faults", "injected handover faults (failing freeze, unknown compatible, duplicate token, corrupt FDT, truncated map, scratch): no panic, broken items reported, intact ones restored, nothing lost",
            512UL << 20, 6_000_000_000),
        new("luo-selftests", "Linux's liveupdate selftests re-expressed: open rules, sessions, preserve one/many, bad fds and sizes, finish, sessions across kexec",
            512UL << 20, 4_000_000_000),
    ];

    public static Scenario? Find(string name) => All.FirstOrDefault(s => s.Name == name);

    /// <summary>Boots firmware, kernel and init with <c>scenario=NAME</c> and collects the KTAP report.</summary>
    public static ScenarioResult Run(Scenario scenario, Stream? liveSerial = null, string extraCmdline = "")
    {
        var serial = new MemoryStream();
        Stream output = liveSerial is null ? serial : new TeeStream(serial, liveSerial);
        using var machine = new PcMachine(Config(scenario, output, extraCmdline));
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var exit = machine.Run(scenario.InstructionBudget);
        sw.Stop();
        string text = Encoding.ASCII.GetString(serial.ToArray());
        var o = machine.KhoOracle;
        var oracle = new OracleReport(o.Handovers, o.PreservedBlocks, o.PreservedBytes, o.RestoredBlocks, o.UnrestoredBlocks,
            o.Violations.ToList(), o.HandoverProblem, o.DeviceWrittenBlocks, o.DmaWritesChecked);
        return new ScenarioResult(scenario, exit, KtapReport.Parse(text), text, machine.Cpu.InstructionCount, sw.Elapsed, oracle);
    }

    /// <summary>The machine a scenario boots: the project's firmware, kernel and init with <c>scenario=NAME</c>.</summary>
    public static MachineConfig Config(Scenario scenario, Stream output, string extraCmdline = "")
    {
        var config = new MachineConfig
        {
            Firmware = GuestImages.Firmware,
            Kernel = GuestImages.Kernel,
            MemorySize = scenario.MemorySize,
            CommandLine = ($"scenario={scenario.Name} " + extraCmdline).Trim(),
            SerialOutput = output,
        };
        config.FwCfgFiles.Add(("opt/khoemu/init", GuestImages.Init));
        return config;
    }

    /// <summary>The outcome of a finished machine, judged as a scenario (its console is <paramref name="text"/>).</summary>
    public static ScenarioResult Judge(Scenario scenario, PcMachine machine, MachineExit exit, string text, TimeSpan wall)
    {
        var o = machine.KhoOracle;
        var oracle = new OracleReport(o.Handovers, o.PreservedBlocks, o.PreservedBytes, o.RestoredBlocks, o.UnrestoredBlocks,
            o.Violations.ToList(), o.HandoverProblem, o.DeviceWrittenBlocks, o.DmaWritesChecked);
        return new ScenarioResult(scenario, exit, KtapReport.Parse(text), text, machine.InstructionCount, wall, oracle);
    }

    /// <summary>Writes go to both streams: the recorded console and a live view of it (also used by <see cref="LinuxScenarios"/>).</summary>
    internal sealed class TeeStream(Stream a, Stream b) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => a.Length;
        public override long Position { get => a.Position; set => throw new NotSupportedException(); }
        public override void Flush() { a.Flush(); b.Flush(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) { a.Write(buffer, offset, count); b.Write(buffer, offset, count); }
        public override void WriteByte(byte value) { a.WriteByte(value); b.WriteByte(value); }
    }
}
