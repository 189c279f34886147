using BenchmarkDotNet.Attributes;
using KhoEmu.Harness;
using KhoEmu.Machine;

namespace KhoEmu.Bench;

/// <summary>
/// Whole-machine boot: the project's firmware loads the kernel, which runs ring-3 init and powers off
/// (the default `khoemu run`), and the `boot` self-test scenario. Reports wall time per boot; the guest instruction
/// count per boot is printed once in the global setup.
/// </summary>
[MemoryDiagnoser]
public class BootBenchmark
{
    private byte[] _firmware = [], _kernel = [], _init = [];

    [GlobalSetup]
    public void Setup()
    {
        _firmware = GuestImages.Firmware;
        _kernel = GuestImages.Kernel;
        _init = GuestImages.Init;
        Console.WriteLine($"// boot to power-off: {Boot()} guest instructions");
    }

    private ulong Boot()
    {
        var config = new MachineConfig { Firmware = _firmware, Kernel = _kernel, MemorySize = 512UL << 20 };
        config.FwCfgFiles.Add(("opt/khoemu/init", _init));
        using var m = new PcMachine(config);
        var exit = m.Run(1_000_000_000);
        if (exit.Kind != ExitKind.DebugExit) throw new InvalidOperationException($"boot did not finish: {exit.Kind} {exit.Diagnostic}");
        return m.Cpu.InstructionCount;
    }

    [Benchmark(Description = "firmware → kernel → init → power-off")]
    public ulong BootToInitExit() => Boot();

    [Benchmark(Description = "scenario boot (KTAP self-tests)")]
    public int BootScenario() => Scenarios.Run(Scenarios.Find("boot")!).Report.Passed;
}
