using System.CommandLine;
using System.Diagnostics;
using KhoEmu.Elf;
using KhoEmu.Harness;
using KhoEmu.Machine;
using KhoEmu.Machine.Boot;
using KhoEmu.Machine.Handover;

namespace KhoEmu.Cli;

/// <summary>
/// `khoemu kho inspect`: boots a guest (a Linux bzImage + initramfs, or the project's own firmware, kernel and init)
/// with the KHO oracle on and prints, at each kexec jump, what was handed over (scratch, preserved ranges by order,
/// sub-trees, LUO sessions and files), then the blackouts and the oracle's verdict when the guest ends.
/// </summary>
internal static class KhoCommand
{
    public static Command Build()
    {
        var kho = new Command("kho", "Kexec HandOver tools.");
        kho.Subcommands.Add(BuildInspect());
        return kho;
    }

    private static Command BuildInspect()
    {
        var kernel = new Option<FileInfo?>("--kernel", "-kernel") { Description = "Kernel to boot (a bzImage for Linux); none boots the project's firmware, kernel and init." };
        var initrd = new Option<FileInfo?>("--initrd", "-initrd") { Description = "Initial RAM disk." };
        var append = new Option<string>("--append", "-append") { Description = "Kernel command line (for the project's kernel e.g. scenario=kexec-memfd).", DefaultValueFactory = _ => "" };
        var memory = new Option<string>("--memory", "-m") { Description = "Guest RAM (default 1G).", DefaultValueFactory = _ => "1G" };
        var symbols = new Option<FileInfo?>("--symbols") { Description = "ELF with symbols (the vmlinux) to name the writer of a bad store." };
        var inject = new Option<string?>("--kho-inject") { Description = "Flip a byte of a preserved page at each jump: flip=auto|PHYS[,offset=N]." };
        var report = new Option<FileInfo?>("--report", "--kho-report") { Description = "Write the report to this file instead of stdout." };
        var console = new Option<FileInfo?>("--console") { Description = "Write the guest's serial console to this file (default: not shown)." };
        var oracle = new Option<string>("--kho-oracle") { Description = "on (default) or off: off runs the same guest without Linux handover checks, to measure their cost.", DefaultValueFactory = _ => "on" };
        var maxInsns = new Option<ulong>("--max-instructions") { Description = "Stop after this many instructions (default 20 G).", DefaultValueFactory = _ => 20_000_000_000 };
        var cmd = new Command("inspect", "Boot a guest with the KHO oracle and print each kexec handover and blackout. The run ends at the "
            + "guest's reset or power-off (as -no-reboot). Exit code 0 when the oracle found no violation, 1 otherwise, 2 bad arguments.")
        { kernel, initrd, append, memory, symbols, inject, report, console, oracle, maxInsns };
        cmd.SetAction(p =>
        {
            try
            {
                return Inspect(p.GetValue(kernel), p.GetValue(initrd), p.GetValue(append) ?? "", p.GetValue(memory) ?? "1G", p.GetValue(symbols),
                    p.GetValue(inject), p.GetValue(report), p.GetValue(console), p.GetValue(oracle) ?? "on", p.GetValue(maxInsns));
            }
            catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException or BootException or ArgumentException or ElfFormatException)
            {
                Console.Error.WriteLine($"khoemu: {e.Message}");
                return 2;
            }
        });
        return cmd;
    }

    private static int Inspect(FileInfo? kernel, FileInfo? initrd, string append, string memory, FileInfo? symbols, string? inject,
        FileInfo? reportFile, FileInfo? consoleFile, string oracleMode, ulong maxInstructions)
    {
        if (oracleMode is not ("on" or "off")) throw new FormatException($"--kho-oracle {oracleMode}: expected on or off");
        var injection = inject is null ? null : KhoInjection.Parse(inject);
        using var consoleStream = consoleFile is null ? Stream.Null : new FileStream(consoleFile.FullName, FileMode.Create, FileAccess.Write, FileShare.Read, 1);
        var config = new MachineConfig { MemorySize = SizeParser.Parse(memory), CommandLine = append, SerialOutput = consoleStream, NoReboot = true };
        if (kernel is not null)
        {
            config.Kernel = QemuOptions.ReadFile("--kernel", kernel.FullName);
            config.KernelName = kernel.ToString();
            if (initrd is not null) (config.Initrd, config.InitrdName) = (QemuOptions.ReadFile("-initrd", initrd.FullName), initrd.ToString());
        }
        else
        {
            config.Firmware = GuestImages.Firmware;
            config.Kernel = GuestImages.Kernel;
            config.FwCfgFiles.Add(("opt/khoemu/init", GuestImages.Init));
        }
        var table = new SymbolTable();
        if (symbols is not null)
        {
            QemuOptions.ReadFile("--symbols", symbols.FullName);   // refuses directories, devices and pipes as every input
            table = SymbolFiles.TryLoad(symbols.FullName, out string? why) ?? throw new FormatException($"--symbols {symbols}: {why}");
        }
        else SymbolFiles.AddImage(table, config.Kernel!);

        using var reportWriter = reportFile is null ? null : new StreamWriter(reportFile.FullName);
        var output = reportWriter ?? Console.Out;
        using var machine = new PcMachine(config);
        var o = machine.KhoOracle;
        o.LinuxDetection = oracleMode == "on";
        o.Symbols = table.Count > 0 ? table : null;
        o.Inject = injection;
        o.JumpSeen += j => { foreach (var line in KhoReportText.Handover(j)) output.WriteLine(line); output.Flush(); };
        var sw = Stopwatch.StartNew();
        var exit = machine.Run(maxInstructions);
        sw.Stop();
        foreach (var j in o.Jumps)
            foreach (var line in KhoReportText.Blackout(j)) output.WriteLine(line);
        output.WriteLine($"guest: {exit.Kind}{(exit.Diagnostic is null ? "" : $" ({exit.Diagnostic})")} after {machine.InstructionCount:N0} instructions, {sw.Elapsed.TotalSeconds:F2} s");
        output.WriteLine($"oracle: {o.Handovers} handover(s), {o.PreservedBlocks} preserved blocks ({o.PreservedBytes / 1024} KiB), "
            + (o.Jumps.Any(j => j.Kind == "linux") ? $"{o.TouchedPages} preserved pages touched by the new kernel, {o.UntouchedAtFinish} untouched at the end, "
                : $"{o.RestoredBlocks} blocks restored, {o.UnrestoredBlocks} left reserved, ")
            + $"{o.Violations.Count} violations"
            + (o.HandoverProblem is { } hp ? $"; handover problem: {hp}" : ""));
        foreach (var v in o.Violations) output.WriteLine($"violation: {v}");
        return o.Violations.Count == 0 ? 0 : 1;
    }
}
