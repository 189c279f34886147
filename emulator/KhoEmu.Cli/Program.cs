using System.CommandLine;
using System.Diagnostics;
using KhoEmu.Elf;
using KhoEmu.Harness;
using KhoEmu.Machine;
using KhoEmu.Machine.Boot;

namespace KhoEmu.Cli;

/// <summary>The `khoemu` command: run, test, scenarios.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("KhoEmu: an x86-64 PC emulator for developing and testing kexec handover.");
        root.Subcommands.Add(BuildRun());
        root.Subcommands.Add(TestCommand.BuildTest());
        root.Subcommands.Add(TestCommand.BuildScenarios());
        root.Subcommands.Add(KhoCommand.Build());
        root.Subcommands.Add(SnapshotCommand.Build());
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            Console.Error.WriteLine($"khoemu: {Readable(parsed.Errors[0].Message)}");
            return 2;
        }
        try { return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false }); }
        catch (IOException e)
        {
            // stdout or stderr unwritable (a full disk, /dev/full, a closed pipe): one line if stderr still takes it.
            try { Console.Error.WriteLine($"khoemu: cannot write output: {e.Message}"); } catch (IOException) { }
            return 2;
        }
    }

    /// <summary>System.CommandLine's parse errors without .NET type names, and a word on QEMU flags not implemented.</summary>
    internal static string Readable(string message)
    {
        var m = System.Text.RegularExpressions.Regex.Match(message, "^Cannot parse argument '(.*)' for option '(.*)' as expected type '(.*)'\\.?$");
        if (m.Success)
        {
            string type = m.Groups[3].Value;
            string what = type.Contains("UInt64") ? "a non-negative whole number" : type.Contains("FileInfo") ? "a file name"
                : type.Contains("Int") ? "a whole number" : "a valid value";
            return $"option {m.Groups[2].Value}: '{m.Groups[1].Value}' is not {what}";
        }
        var u = System.Text.RegularExpressions.Regex.Match(message, "^Unrecognized command or argument '(.*)'\\.?$");
        if (u.Success)
            return u.Groups[1].Value is "-s" or "-S" or "-gdb"
                ? $"option {u.Groups[1].Value}: the gdb stub is not implemented"
                : $"unknown option or argument '{u.Groups[1].Value}' (see khoemu run --help)";
        return message;
    }

    private static Command BuildRun()
    {
        var kernel = new Option<FileInfo?>("--kernel", "-kernel")
        { Description = "Kernel to boot directly, as QEMU's -kernel: an ELF with a PVH note or a multiboot kernel. With --firmware it is handed to the firmware through fw_cfg instead." };
        var firmware = new Option<FileInfo?>("--firmware", "-bios")
        { Description = "Firmware ROM image (ends at 4 GiB; the CPU starts at its reset vector)." };
        var initrd = new Option<FileInfo?>("--initrd", "-initrd")
        { Description = "Initial RAM disk, as QEMU's -initrd: a PVH module, the multiboot module or the bzImage's ramdisk; fw_cfg's initrd items with --firmware." };
        var demo = new Option<bool>("--demo") { Description = "Boot the small built-in demo guest instead of the project's firmware, kernel and init." };
        var append = new Option<string>("--append", "-append") { Description = "Kernel command line.", DefaultValueFactory = _ => "" };
        var memory = new Option<string>("--memory", "-m")
        { Description = "Guest RAM size: a number of MiB, or with a K/M/G/T suffix (default 512M).", DefaultValueFactory = _ => "512M" };
        var fwcfg = new Option<string[]>("--fw-cfg", "-fw_cfg")
        { Description = "Add a fw_cfg file: name=NAME,file=PATH (repeatable).", AllowMultipleArgumentsPerToken = false };
        var stats = new Option<bool>("--stats") { Description = "Print instructions executed, wall time and MIPS on stderr at exit." };
        var trace = new Option<FileInfo?>("--trace") { Description = "Write an instruction trace (symbolized disassembly and registers) to this file." };
        var symbols = new Option<FileInfo[]>("--symbols")
        { Description = "ELF file whose symbols name trace addresses (repeatable; the kernel's and firmware's are used when they are ELF).", AllowMultipleArgumentsPerToken = false };
        var noInput = new Option<bool>("--no-input") { Description = "Do not connect stdin to the serial port (keeps the run fully deterministic)." };
        var machineOpt = new Option<string?>("-machine", "-M") { Description = "QEMU compatibility: must name q35 (the only machine)." };
        var device = new Option<string[]>("-device")
        { Description = "QEMU compatibility: intel-iommu (properties intremap=on|off|auto, caching-mode=off, eim=off), edu and isa-debug-exit (iobase=0xf4,iosize=0x04) are built in and accepted; any other device is an error.", AllowMultipleArgumentsPerToken = false };
        var serial = new Option<string?>("-serial") { Description = "QEMU compatibility: stdio (the console is always stdio)." };
        var display = new Option<string?>("-display") { Description = "QEMU compatibility: none (there is no display)." };
        var nographic = new Option<bool>("-nographic") { Description = "QEMU compatibility: accepted (there is no display)." };
        var noReboot = new Option<bool>("-no-reboot") { Description = "End the run when the guest resets instead of rebooting, as QEMU's -no-reboot (a triple fault always ends the run)." };
        var rtc = new Option<string?>("-rtc")
        { Description = "RTC start as QEMU's -rtc: base=utc|localtime (the host's time now), base=YYYY-MM-DDTHH:MM:SS or YYYY-MM-DD; default a fixed 2025-01-01T00:00:00 so runs are deterministic." };
        var cpu = new Option<string?>("-cpu", "--cpu")
        { Description = $"CPU model, as QEMU's -cpu (default {KhoEmu.Cpu.CpuModels.Default.Name}); '-cpu help' lists the models." };
        var smp = new Option<string?>("-smp", "--smp")
        { Description = "Processors, as QEMU's -smp: N, cpus=N, sockets=S,cores=C,threads=T (default 1). They run in deterministic round-robin (docs/cpu.md)." };
        var rngSeed = new Option<ulong?>("--rng-seed")
        { Description = $"Seed (decimal) of the deterministic generator behind RDRAND/RDSEED (default {KhoEmu.Cpu.Cpu.DefaultRngSeed}); the same seed gives the same run." };
        var maxInsns = new Option<ulong?>("--max-instructions") { Description = $"Stop after this many instructions (exit code {MachineExit.CodeInstructionLimit})." };
        var khoInject = new Option<string?>("--kho-inject")
        { Description = "Fault injection for the KHO oracle: flip a byte of a preserved page at each kexec jump, flip=auto|PHYS[,offset=N] (docs/handover.md)." };

        var run = new Command("run", "Boot a virtual PC with the serial console on stdout and stdin. With no image options and no "
            + $"--append it runs the live-update demonstration: the project's firmware, kernel and init (built into khoemu) run scenario {LiveUpdateDemo.Scenario} "
            + "(memfds in sessions, iommufd and vfio with the DMA engine running through a kexec; the second kernel retrieves everything) "
            + "and a summary of the handover follows the console. With --append the built-in images boot with that command line instead.\n"
            + "Exit codes: the demonstration 0 handover verified, 1 not verified; other runs: the guest's isa-debug-exit value v gives (v << 1) | 1 "
            + "as in QEMU; 0 ACPI power-off or (with -no-reboot) guest reset; "
            + $"{MachineExit.CodeInstructionLimit} instruction limit, {MachineExit.CodeHalted} halted forever, "
            + $"{MachineExit.CodeTripleFault} triple fault, {MachineExit.CodeUnsupported} unimplemented instruction, "
            + $"{MachineExit.CodeStopped} stopped; any run: 2 bad arguments, unreadable input or unbootable image.")
        {
            kernel, initrd, firmware, demo, append, memory, fwcfg, stats, trace, symbols, maxInsns, noInput,
            machineOpt, device, serial, display, nographic, noReboot, rtc, cpu, rngSeed, smp,
            khoInject,
        };
        var snapshots = new SnapshotOptions.Set(run);
        run.SetAction(p =>
        {
            if (p.GetValue(cpu) == "help")
            {
                Console.WriteLine(KhoEmu.Cpu.CpuModels.Help());
                return 0;
            }
            try
            {
                if (p.GetValue(cpu) is { } cspec) QemuOptions.ParseCpu(cspec);
                if (p.GetValue(smp) is { } smpSpec) SmpOption.Parse(smpSpec);
                if (p.GetValue(machineOpt) is { } mspec) QemuOptions.CheckMachine(mspec);
                foreach (var d in p.GetValue(device) ?? []) QemuOptions.CheckDevice(d);
                if (p.GetValue(serial) is { } sspec) QemuOptions.CheckSerial(sspec);
                if (p.GetValue(display) is { } dspec) QemuOptions.CheckDisplay(dspec);
            }
            catch (FormatException e)
            {
                Console.Error.WriteLine($"khoemu: {e.Message}");
                return 2;
            }
            return RunWith(p);
        });
        int RunWith(ParseResult p) => Run(new RunOptions(p.GetValue(kernel), p.GetValue(firmware), p.GetValue(demo), p.GetValue(append) ?? "",
            p.GetValue(memory) ?? "512M", p.GetValue(fwcfg) ?? [], p.GetValue(stats), p.GetValue(trace), p.GetValue(symbols) ?? [],
            p.GetValue(maxInsns), p.GetValue(noInput), p.GetValue(noReboot), p.GetValue(rtc))
        {
            Initrd = p.GetValue(initrd),
            Cpu = p.GetValue(cpu) is { } c ? QemuOptions.ParseCpu(c) : null,
            RngSeed = p.GetValue(rngSeed) ?? KhoEmu.Cpu.Cpu.DefaultRngSeed,
            Iommu = QemuOptions.ParseIommu(p.GetValue(device) ?? []),
            Smp = p.GetValue(smp) is { } sp ? SmpOption.Parse(sp) : KhoEmu.Cpu.Smp.CpuTopology.Single,
            KhoInject = p.GetValue(khoInject),
            Snapshots = snapshots.Get(p),
        });
        return run;
    }

    /// <summary>Symbols for the trace: the kernel's (when it is an ELF) and those of every --symbols file.</summary>
    private static SymbolTable? LoadSymbols(IEnumerable<byte[]> images, FileInfo[] extra)
    {
        var table = new SymbolTable();
        foreach (var image in images)
            if (SymbolFiles.AddImage(table, image) is { } why) Console.Error.WriteLine($"khoemu: no symbols from the kernel: {why}");
        foreach (var f in extra)
        {
            if (!SymbolFiles.TryAdd(table, f.FullName, out string? why)) Console.Error.WriteLine($"khoemu: no symbols from {f}: {why}");
        }
        return table.Count > 0 ? table : null;
    }

    /// <summary>
    /// RAM the default machine needs: the built-in kernel's highest PT_LOAD end, rounded up to a MiB, and no less than
    /// the 8 MiB the firmware's own code, stack and tables take (below that it faults before it can say anything).
    /// </summary>
    private static ulong BuiltInMinimumRam(byte[] kernel)
    {
        ulong end = ElfFile.Parse(kernel).Segments.Where(s => s.Type == ElfSegment.Load).Select(s => s.PhysicalAddress + s.MemorySize).DefaultIfEmpty(0UL).Max();
        return Math.Max(8UL << 20, (end + 0xFFFFF) & ~0xFFFFFUL);
    }

    private static StreamWriter OpenTrace(FileInfo f)
    {
        if (Directory.Exists(f.FullName)) throw new FormatException($"--trace {f}: is a directory");
        try { return new StreamWriter(f.FullName); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FormatException($"--trace {f}: cannot create: {e.Message}");
        }
    }

    private sealed record RunOptions(FileInfo? Kernel, FileInfo? Firmware, bool Demo, string Append, string Memory, string[] FwCfg,
        bool Stats, FileInfo? Trace, FileInfo[] Symbols, ulong? MaxInstructions, bool NoInput, bool NoReboot, string? Rtc)
    {
        public FileInfo? Initrd { get; init; }
        public KhoEmu.Cpu.CpuModel? Cpu { get; init; }
        public ulong RngSeed { get; init; }
        public KhoEmu.Devices.Iommu.IntelIommuOptions Iommu { get; init; } = new();
        public KhoEmu.Cpu.Smp.CpuTopology Smp { get; init; } = KhoEmu.Cpu.Smp.CpuTopology.Single;
        public string? KhoInject { get; init; }

        /// <summary>The live-update demonstration: no image options, no kernel command line of the user's and no
        /// snapshot to restore (a restored run continues whatever machine the snapshot holds).</summary>
        public bool Demonstration => Kernel is null && Firmware is null && Initrd is null && !Demo && Append.Length == 0
            && Snapshots.RestoreFile is null;
        public SnapshotOptions Snapshots { get; init; } = new();
    }

    private static int Run(RunOptions o)
    {
        var config = new MachineConfig
        {
            CommandLine = o.Append,
            SerialOutput = Console.OpenStandardOutput(),
            SerialInput = o.NoInput ? null : Console.OpenStandardInput(),
            NoReboot = o.NoReboot,
            CpuModel = o.Cpu,
            RngSeed = o.RngSeed,
            Iommu = o.Iommu,
            Smp = o.Smp,
        };
        var symbolImages = new List<byte[]>();
        Func<string>? demoConsole = null;
        KhoEmu.Machine.Handover.KhoInjection? injection = null;
        try
        {
            if (o.KhoInject is { } inject) injection = KhoEmu.Machine.Handover.KhoInjection.Parse(inject);
            o.Snapshots.Check(o.NoInput);
            config.MemorySize = SizeParser.Parse(o.Memory);
            if (o.Rtc is not null) config.RtcBase = QemuOptions.ParseRtc(o.Rtc, o.Snapshots.HostUtcNow);
            foreach (var spec in o.FwCfg) config.FwCfgFiles.Add(FwCfgSpec.Load(spec));
            if (o.Demo && (o.Kernel is not null || o.Firmware is not null || o.Initrd is not null))
                throw new FormatException("--demo boots the built-in demo guest; it cannot be combined with --kernel, --firmware or --initrd");
            if (o.Kernel is not null)
            {
                config.Kernel = QemuOptions.ReadFile("--kernel", o.Kernel.FullName);
                config.KernelName = o.Kernel.ToString();
            }
            if (o.Initrd is not null) (config.Initrd, config.InitrdName) = (QemuOptions.ReadFile("-initrd", o.Initrd.FullName), o.Initrd.ToString());
            if (o.Firmware is not null) config.Firmware = QemuOptions.ReadFile("--firmware", o.Firmware.FullName);
            if (o.Kernel is null && o.Firmware is null && !o.Demo)
            {
                // The default machine: the project's firmware, kernel and init.
                config.Firmware = GuestImages.Firmware;
                config.Kernel = GuestImages.Kernel;
                ulong need = BuiltInMinimumRam(GuestImages.Kernel);
                if (config.MemorySize < need)
                    throw new FormatException($"-m {o.Memory}: the built-in firmware and kernel need at least {need >> 20} MiB of RAM");
                if (!config.FwCfgFiles.Any(f => f.Name == "opt/khoemu/init")) config.FwCfgFiles.Add(("opt/khoemu/init", GuestImages.Init));
                symbolImages.Add(GuestImages.Init);
                symbolImages.Add(GuestImages.FirmwareElf);
                if (o.Demonstration)
                {
                    config.CommandLine = "scenario=" + LiveUpdateDemo.Scenario;
                    (config.SerialOutput, demoConsole) = LiveUpdateDemo.Capture(config.SerialOutput);
                }
            }
            if (config.Kernel is not null) symbolImages.Add(config.Kernel);
            config = o.Snapshots.Prepare(config, o.Kernel is not null || o.Firmware is not null || o.Initrd is not null || o.Demo
                || o.Append.Length > 0 || o.FwCfg.Length > 0);
        }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            Console.Error.WriteLine($"khoemu: {e.Message}");
            return 2;
        }

        StreamWriter? traceFile;
        try { traceFile = o.Trace is null ? null : OpenTrace(o.Trace); }
        catch (FormatException e)
        {
            Console.Error.WriteLine($"khoemu: {e.Message}");
            return 2;
        }
        using var traceWriter = traceFile;
        var tracer = traceWriter is null ? null : new Tracer(traceWriter, LoadSymbols(symbolImages, o.Symbols));
        ulong budget = o.MaxInstructions ?? ulong.MaxValue, executed = 0;
        var sw = Stopwatch.StartNew();
        while (true)
        {
            PcMachine machine;
            try { machine = new PcMachine(config); }
            catch (Exception e) when (e is BootException or ArgumentException)
            {
                Console.Error.WriteLine($"khoemu: cannot boot: {e.Message}");
                return 2;
            }
            using (machine)
            {
                if (tracer is not null) machine.Cpu.TraceHook = tracer.Step;
                machine.KhoOracle.Inject = injection;
                MachineExit exit;
                try
                {
                    o.Snapshots.Attach(machine);
                    exit = o.Snapshots.Run(machine, budget == ulong.MaxValue ? budget : budget - Math.Min(executed, budget));
                }
                catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException or InvalidOperationException)
                {
                    Console.Error.WriteLine($"khoemu: {e.Message}");
                    return 2;
                }
                executed += machine.InstructionCount;
                // A guest reset without -no-reboot is a cold reset: a fresh machine from the same configuration.
                if (exit.Kind == ExitKind.Reset && !config.NoReboot) continue;
                sw.Stop();
                if (exit.Diagnostic is not null && exit.Kind is not (ExitKind.DebugExit or ExitKind.PowerOff or ExitKind.Reset))
                    Console.Error.WriteLine($"khoemu: {exit.Kind}: {exit.Diagnostic}");
                if (o.Stats)
                {
                    double mips = executed / Math.Max(sw.Elapsed.TotalSeconds, 1e-9) / 1e6;
                    Console.Error.WriteLine($"khoemu: {executed} instructions in {sw.Elapsed.TotalSeconds:F3} s = {mips:F1} MIPS; "
                        + $"{machine.Cpus.Sum(c => c.BlocksDecoded)} blocks decoded, {machine.Cpus.Sum(c => c.CodeInvalidations)} code-page invalidations; exit {exit.ExitCode}");
                    Console.Error.WriteLine(SnapshotOptions.RamStats(machine));
                    if (machine.Cpus.Count > 1)
                    {
                        Console.Error.WriteLine($"khoemu: {machine.Cpus.Count} CPUs, {machine.ApicBus.IpisSent} IPIs, {machine.Clock.Now / 1e9:F3} s of virtual time");
                        foreach (var c in machine.Cpus)
                            Console.Error.WriteLine($"khoemu:   CPU {c.ProcessorIndex} (APIC ID {c.InitialApicId}): {c.InstructionCount} instructions, "
                                + $"{c.BlocksDecoded} blocks decoded, {c.CodeInvalidations} code-page invalidations");
                    }
                }
                if (o.Snapshots.Finish() is { } missing)
                {
                    Console.Error.WriteLine($"khoemu: {missing}");
                    return 2;
                }
                if (demoConsole is null) return exit.ExitCode;
                var (lines, verified) = LiveUpdateDemo.Summarize(machine, exit, demoConsole());
                foreach (var line in lines) Console.WriteLine(line);
                return verified ? 0 : 1;
            }
        }
    }
}
