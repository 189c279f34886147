using System.Text;
using KhoEmu.Machine;

namespace KhoEmu.Harness;

/// <summary>
/// A guest self-test run selected by the kernel command line <c>scenario=NAME</c>. A scenario with
/// <paramref name="InstructionsPerCycle"/> repeats its kexec <c>cycles=N</c> times (default <paramref name="DefaultCycles"/>);
/// its budget grows by that much per cycle.
/// </summary>
public sealed record Scenario(string Name, string Description, ulong MemorySize, ulong InstructionBudget,
    ulong InstructionsPerCycle = 0, int DefaultCycles = 0);

/// <summary>The outcome of one scenario boot.</summary>
public sealed record ScenarioResult(Scenario Scenario, MachineExit Exit, KtapReport Report, string Serial, ulong Instructions,
    TimeSpan Wall, OracleReport Oracle)
{
    /// <summary>The host stopped the run at the <see cref="ScenarioOptions.Timeout"/> wall-clock limit.</summary>
    public bool TimedOut { get; init; }
    /// <summary>kexec-soak's cycles (empty for other scenarios).</summary>
    public IReadOnlyList<SoakCycle> Soak { get; init; } = [];

    /// <summary>Passed: a complete KTAP report with no failures, a clean debug-exit and no KHO oracle violation.</summary>
    public bool Passed => !TimedOut && Report.Problems.Count == 0 && Report.Failed == 0 && Exit.Kind == ExitKind.DebugExit && Exit.ExitCode == 1
        && Oracle.Violations.Count == 0;
}

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
        new("kexec-soak", "N kexecs in one boot (cycles=N, default 3; `khoemu test --cycles N`): memfds of changing contents and the DMA engine running through each; contents, DMA records and the oracle checked every cycle; guest free memory must stay flat",
            512UL << 20, 1_000_000_000, InstructionsPerCycle: 1_500_000_000, DefaultCycles: 3),
        new("kexec-memfd", "memfds in two live-update sessions survive a kexec: contents, size, position, tokens, liveupdate-number",
            512UL << 20, 4_000_000_000),
        new("handover-faults", "injected handover faults (failing freeze, unknown compatible, duplicate token, corrupt FDT, truncated map, scratch): no panic, broken items reported, intact ones restored, nothing lost",
            512UL << 20, 6_000_000_000),
        new("luo-selftests", "Linux's liveupdate selftests re-expressed: open rules, sessions, preserve one/many, bad fds and sizes, finish, sessions across kexec",
            512UL << 20, 4_000_000_000),
    ];

    public static Scenario? Find(string name) => All.FirstOrDefault(s => s.Name == name);

    /// <summary>The name of the scenario whose init is a user's program (<c>khoemu test --init FILE</c>).</summary>
    public const string UserInitPrefix = "init:";

    /// <summary>A scenario that runs a user's own static ring-3 program as init on the project's kernel and judges
    /// the KTAP (or TAP 13) report it prints; its kernel command line has no <c>scenario=</c>.</summary>
    public static Scenario UserInit(string fileName) =>
        new(UserInitPrefix + Path.GetFileName(fileName), $"the user's init program {fileName}, judged by its KTAP report", 512UL << 20, 4_000_000_000);

    /// <summary>Instructions per slice of a run with a wall-clock limit (about 0.1-0.5 s of host time).</summary>
    private const ulong Slice = 5_000_000;

    /// <summary>Boots firmware, kernel and init with <c>scenario=NAME</c> and collects the KTAP report.</summary>
    public static ScenarioResult Run(Scenario scenario, Stream? liveSerial = null, string extraCmdline = "") =>
        Run(scenario, new ScenarioOptions { LiveSerial = liveSerial, ExtraCmdline = extraCmdline });

    /// <summary>Boots <paramref name="scenario"/> with the user's overrides. Bad images are a
    /// <see cref="KhoEmu.Machine.Boot.BootException"/> or <see cref="ArgumentException"/> from the machine.</summary>
    public static ScenarioResult Run(Scenario scenario, ScenarioOptions options)
    {
        var serial = new MemoryStream();
        Stream output = options.LiveSerial is null ? serial : new TeeStream(serial, options.LiveSerial);
        ulong budget = options.MaxInstructions ?? scenario.InstructionBudget;
        SoakWatcher? soak = null;
        if (scenario.InstructionsPerCycle > 0)
        {
            int cycles = SoakWatcher.Cycles(options.ExtraCmdline, scenario.DefaultCycles);
            if (options.MaxInstructions is null) budget += (ulong)cycles * scenario.InstructionsPerCycle;
            // Without a live console the per-cycle figures go to stderr: a 1,000-cycle soak runs for minutes.
            soak = new SoakWatcher(output, options.LiveSerial is null ? Console.Error : null);
            output = soak;
        }
        using var machine = new PcMachine(Config(scenario, output, options));
        var sw = System.Diagnostics.Stopwatch.StartNew();
        MachineExit exit;
        bool timedOut = false;
        if (options.Timeout is not { } timeout) exit = machine.Run(budget);
        else
        {
            // Host time is read here, between slices, never inside the machine: the run itself stays deterministic.
            while (true)
            {
                exit = machine.Run(Math.Min(Slice, budget - machine.InstructionCount));
                if (exit.Kind != ExitKind.InstructionLimit || machine.InstructionCount >= budget) break;
                if (sw.Elapsed >= timeout) { timedOut = true; break; }
            }
        }
        sw.Stop();
        string text = Encoding.ASCII.GetString(serial.ToArray());
        return Judge(scenario, machine, exit, text, sw.Elapsed) with { TimedOut = timedOut, Soak = soak?.Samples ?? [] };
    }

    /// <summary>The machine a scenario boots: the project's firmware, kernel and init with <c>scenario=NAME</c>.</summary>
    public static MachineConfig Config(Scenario scenario, Stream output, string extraCmdline = "") =>
        Config(scenario, output, new ScenarioOptions { ExtraCmdline = extraCmdline });

    /// <summary>As above with the user's overrides (kernel, init, RAM, kernel options).</summary>
    public static MachineConfig Config(Scenario scenario, Stream output, ScenarioOptions options)
    {
        bool userInit = scenario.Name.StartsWith(UserInitPrefix, StringComparison.Ordinal);
        var config = new MachineConfig
        {
            Firmware = GuestImages.Firmware,
            Kernel = options.Kernel ?? GuestImages.Kernel,
            MemorySize = options.MemorySize ?? scenario.MemorySize,
            CommandLine = ((userInit ? "" : $"scenario={scenario.Name} ") + options.ExtraCmdline).Trim(),
            SerialOutput = output,
        };
        config.FwCfgFiles.Add(("opt/khoemu/init", options.Init ?? GuestImages.Init));
        return config;
    }

    /// <summary>The outcome of a finished machine, judged as a scenario (its console is <paramref name="text"/>).</summary>
    public static ScenarioResult Judge(Scenario scenario, PcMachine machine, MachineExit exit, string text, TimeSpan wall) =>
        new(scenario, exit, KtapReport.Parse(text), text, machine.InstructionCount, wall, OracleReport.From(machine.KhoOracle));

    /// <summary>Writes go to both streams: the recorded console and a live view of it (also used by <see cref="LinuxScenarios"/>).</summary>
    public sealed class TeeStream(Stream a, Stream b) : Stream
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
