using BenchmarkDotNet.Attributes;
using KhoEmu.Harness;
using KhoEmu.Machine;

namespace KhoEmu.Bench;

/// <summary>
/// The kexec blackout with one preserved memfd of 16 MiB, 256 MiB and 4 GiB: from reboot(KEXEC) entering freeze to
/// ring 3 having the file back in the new kernel. Each iteration boots the project's firmware, kernel and init with
/// scenario=blackout up to the blackout's start (not measured), then the measured part runs the machine until the
/// end mark. The host time is the benchmark's; the guest instruction count of the gap is printed per iteration.
/// The KHO oracle's hashing is off here (it would measure the host, not the handover). The guest has 6 GiB of RAM in
/// every case, so only the amount of preserved memory changes.
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 5, invocationCount: 1)]
public class BlackoutBenchmark
{
    private PcMachine? _machine;

    [Params(16, 256, 4096)]
    public int PreservedMiB { get; set; }

    [IterationSetup]
    public void BootToBlackout()
    {
        const ulong ram = 6UL << 30;   // the same machine for every size: only the preserved memory varies
        var config = new MachineConfig
        {
            Firmware = GuestImages.Firmware,
            Kernel = GuestImages.Kernel,
            MemorySize = ram,
            CommandLine = $"scenario=blackout blackout_mib={PreservedMiB}",
        };
        config.FwCfgFiles.Add(("opt/khoemu/init", GuestImages.Init));
        _machine = new PcMachine(config);
        _machine.KhoOracle.HashBlocks = false;
        _machine.KhoOracle.StopAtBlackoutMarks = true;
        var exit = _machine.Run(20_000_000_000);
        if (exit.Kind != ExitKind.Stopped) throw new InvalidOperationException($"blackout never began: {exit.Kind} {exit.Diagnostic}");
    }

    [Benchmark(Description = "freeze → all files retrieved")]
    public ulong Blackout()
    {
        var exit = _machine!.Run(20_000_000_000);
        if (exit.Kind != ExitKind.Stopped) throw new InvalidOperationException($"blackout never ended: {exit.Kind} {exit.Diagnostic}");
        return _machine.KhoOracle.BlackoutInstructions;
    }

    [IterationCleanup]
    public void Report()
    {
        Console.WriteLine($"// blackout {PreservedMiB} MiB: {_machine!.KhoOracle.BlackoutInstructions} guest instructions, "
            + $"{_machine.KhoOracle.BlackoutWall.TotalMilliseconds:F1} ms host");
        _machine.Dispose();
        _machine = null;
    }
}
