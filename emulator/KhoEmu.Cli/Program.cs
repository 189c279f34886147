using System.CommandLine;
using System.Diagnostics;
using KhoEmu.Elf;
using KhoEmu.Machine;
using KhoEmu.Machine.Boot;

namespace KhoEmu.Cli;

/// <summary>The `khoemu` command.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("KhoEmu: an x86-64 PC emulator for developing and testing kexec handover.");
        root.Subcommands.Add(BuildRun());
        return root.Parse(args).Invoke();
    }

    private static Command BuildRun()
    {
        var kernel = new Option<FileInfo?>("--kernel", "-kernel")
        { Description = "Kernel to boot directly: an ELF with a PVH note or a multiboot kernel (as QEMU's -kernel). Without it, the built-in demo guest boots." };
        var append = new Option<string>("--append", "-append") { Description = "Kernel command line.", DefaultValueFactory = _ => "" };
        var memory = new Option<string>("--memory", "-m")
        { Description = "Guest RAM size: a number of MiB, or with a K/M/G/T suffix (default 512M).", DefaultValueFactory = _ => "512M" };
        var fwcfg = new Option<string[]>("--fw-cfg", "-fw_cfg")
        { Description = "Add a fw_cfg file: name=NAME,file=PATH (repeatable).", AllowMultipleArgumentsPerToken = false };
        var stats = new Option<bool>("--stats") { Description = "Print instructions executed, wall time and MIPS on stderr at exit." };
        var trace = new Option<FileInfo?>("--trace") { Description = "Write an instruction trace (disassembly and registers) to this file." };
        var symbols = new Option<FileInfo[]>("--symbols")
        { Description = "ELF file whose symbols name trace addresses (repeatable; the --kernel ELF's symbols are always used).", AllowMultipleArgumentsPerToken = false };
        var noInput = new Option<bool>("--no-input") { Description = "Do not connect stdin to the serial port (keeps the run fully deterministic)." };
        var maxInsns = new Option<ulong?>("--max-instructions") { Description = $"Stop after this many instructions (exit code {MachineExit.CodeInstructionLimit})." };

        var run = new Command("run", "Boot a kernel (or the built-in demo guest) with the serial console on stdout.\n"
            + "Exit codes: the guest's isa-debug-exit value v gives (v << 1) | 1 as in QEMU; "
            + $"{MachineExit.CodeInstructionLimit} instruction limit, {MachineExit.CodeHalted} halted forever, "
            + $"{MachineExit.CodeTripleFault} triple fault, {MachineExit.CodeUnsupported} unimplemented instruction, 2 bad arguments or image.")
        {
            kernel, append, memory, fwcfg, stats, trace, symbols, maxInsns, noInput,
        };
        run.SetAction(p => Run(new RunOptions(p.GetValue(kernel), p.GetValue(append) ?? "", p.GetValue(memory) ?? "512M",
            p.GetValue(fwcfg) ?? [], p.GetValue(stats), p.GetValue(trace), p.GetValue(symbols) ?? [], p.GetValue(maxInsns), p.GetValue(noInput))));
        return run;
    }

    /// <summary>Symbols for the trace: the kernel's (when it is an ELF) and those of every --symbols file.</summary>
    private static SymbolTable? LoadSymbols(byte[]? kernel, FileInfo[] extra)
    {
        var table = new SymbolTable();
        void AddImage(byte[] image, string what)
        {
            if (!ElfFile.LooksLikeElf(image)) return;
            try { table.Add(ElfFile.Parse(image)); }
            catch (ElfFormatException e) { Console.Error.WriteLine($"khoemu: no symbols from {what}: {e.Message}"); }
        }
        if (kernel is not null) AddImage(kernel, "the kernel");
        foreach (var f in extra)
        {
            try { AddImage(File.ReadAllBytes(f.FullName), f.ToString()); }
            catch (IOException e) { Console.Error.WriteLine($"khoemu: no symbols from {f}: {e.Message}"); }
        }
        return table.Count > 0 ? table : null;
    }

    private sealed record RunOptions(FileInfo? Kernel, string Append, string Memory, string[] FwCfg, bool Stats,
        FileInfo? Trace, FileInfo[] Symbols, ulong? MaxInstructions, bool NoInput);

    private static int Run(RunOptions o)
    {
        var config = new MachineConfig
        {
            CommandLine = o.Append,
            SerialOutput = Console.OpenStandardOutput(),
            SerialInput = o.NoInput ? null : Console.OpenStandardInput(),
        };
        try
        {
            config.MemorySize = SizeParser.Parse(o.Memory);
            if (o.Kernel is not null)
            {
                config.Kernel = File.ReadAllBytes(o.Kernel.FullName);
                config.KernelName = o.Kernel.ToString();
            }
            foreach (var spec in o.FwCfg) config.FwCfgFiles.Add(FwCfgSpec.Load(spec));
        }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            Console.Error.WriteLine($"khoemu: {e.Message}");
            return 2;
        }

        PcMachine machine;
        try { machine = new PcMachine(config); }
        catch (Exception e) when (e is BootException or ArgumentException)
        {
            Console.Error.WriteLine($"khoemu: cannot boot: {e.Message}");
            return 2;
        }
        using (machine)
        {
            using var traceWriter = o.Trace is null ? null : new StreamWriter(o.Trace.FullName);
            if (traceWriter is not null) machine.Cpu.TraceHook = new Tracer(traceWriter, LoadSymbols(config.Kernel, o.Symbols)).Step;
            var sw = Stopwatch.StartNew();
            var exit = machine.Run(o.MaxInstructions ?? ulong.MaxValue);
            sw.Stop();
            if (exit.Diagnostic is not null && exit.Kind != ExitKind.DebugExit)
                Console.Error.WriteLine($"khoemu: {exit.Kind}: {exit.Diagnostic}");
            if (o.Stats)
            {
                ulong n = machine.Cpu.InstructionCount;
                double mips = n / Math.Max(sw.Elapsed.TotalSeconds, 1e-9) / 1e6;
                Console.Error.WriteLine($"khoemu: {n} instructions in {sw.Elapsed.TotalSeconds:F3} s = {mips:F1} MIPS; "
                    + $"{machine.Cpu.BlocksDecoded} blocks decoded, {machine.Cpu.CodeInvalidations} code-page invalidations; exit {exit.ExitCode}");
            }
            return exit.ExitCode;
        }
    }
}
