using System.CommandLine;
using KhoEmu.Harness;
using KhoEmu.Machine;

namespace KhoEmu.Cli;

/// <summary>`khoemu test` and `khoemu scenarios`: the project's own guest scenarios and upstream Linux's KHO/LUO
/// selftests on the KHO guest, with one report format for both.</summary>
internal static class TestCommand
{
    public static Command BuildTest()
    {
        var names = new Argument<string[]>("scenario")
        { Description = "Scenario names (see `khoemu scenarios`); none runs all of the project's own (and, with --linux, all Linux ones).", Arity = ArgumentArity.ZeroOrMore };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Show each guest's serial console while it runs." };
        var linux = new Option<bool>("--linux") { Description = $"Run every Linux scenario ({LinuxScenarios.Prefix}*) besides the named ones." };
        var guest = new Option<string?>("--linux-guest")
        {
            Description = $"Directory of the KHO Linux guest (bzImage and the test images), as {LinuxGuest.PrepareScript} prints it; "
                + $"default ${LinuxGuest.EnvironmentVariable}, else that script run from the checkout khoemu was built in.",
        };
        var append = new Option<string>("--append")
        {
            Description = "Extra kernel command-line options, after the scenario's own (so a later 'kho=off' wins: the negative control).",
            DefaultValueFactory = _ => "",
        };
        var memory = new Option<string?>("--memory", "-m") { Description = "Guest RAM for every scenario (QEMU's -m syntax: 512, 512M, 1G); default each scenario's own." };
        var maxInsns = new Option<ulong?>("--max-instructions") { Description = "Instruction budget of each scenario (default each scenario's own); reaching it fails the scenario." };
        var timeout = new Option<string?>("--timeout") { Description = "Host wall-clock limit per scenario: seconds, or with ms/s/m/h (90, 500ms, 10m). A scenario that reaches it is stopped and fails with \"timeout\"." };
        var kernel = new Option<FileInfo?>("--kernel", "-kernel") { Description = "Another build of the project's kernel (kernel.elf) to run the project's scenarios on." };
        var init = new Option<FileInfo?>("--init") { Description = "A static ring-3 x86-64 ELF of your own to run as init on the project's kernel, as the only scenario; its KTAP/TAP 13 output (1..N, ok N - name, not ok N - name, # SKIP) is judged, each test a check." };
        var junit = new Option<FileInfo?>("--junit") { Description = "Also write the results as JUnit XML (GitLab, Jenkins, GitHub) to this file." };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the results as JSON (checks, verdicts, instructions, wall time, oracle totals) to this file." };
        var cycles = new Option<int?>("--cycles") { Description = "Kexecs in one boot for kexec-soak (kernel option cycles=N; default 3)." };
        cycles.Validators.Add(r => { if (r.GetValueOrDefault<int?>() is < 1) r.AddError("--cycles must be at least 1"); });
        var test = new Command("test", "Boot each scenario, judge its report (KTAP, or upstream's markers for the Linux selftests) and "
            + "print per-test results and a closing 'N passed, N failed' line. Exit codes: 0 nothing failed, 1 a check failed "
            + "(including a timeout), 2 bad arguments or names, an unreadable file, or a missing Linux guest.")
        {
            names,
            verbose,
            linux,
            guest,
            append,
            memory,
            maxInsns,
            timeout,
            kernel,
            init,
            junit,
            json,
            cycles,
        };
        var snapshots = new TestSnapshotOptions(test);
        test.SetAction(p =>
        {
            try
            {
                var o = new TestOptions(p.GetValue(names) ?? [], p.GetValue(verbose), p.GetValue(linux), p.GetValue(guest),
                    ((p.GetValue(append) ?? "") + (p.GetValue(cycles) is int n ? $" cycles={n}" : "")).Trim())
                {
                    Memory = p.GetValue(memory) is { } m ? MemoryOption(m) : null,
                    MaxInstructions = p.GetValue(maxInsns) is 0 ? throw new FormatException("--max-instructions: must be at least 1") : p.GetValue(maxInsns),
                    Timeout = p.GetValue(timeout) is { } t ? DurationParser.Parse("--timeout", t) : null,
                    Kernel = p.GetValue(kernel) is { } k ? QemuOptions.ReadFile("--kernel", k.FullName) : null,
                    InitFile = p.GetValue(init),
                    Init = p.GetValue(init) is { } i ? QemuOptions.ReadFile("--init", i.FullName) : null,
                    Junit = p.GetValue(junit),
                    Json = p.GetValue(json),
                    SnapshotPlan = (own, linuxCount) => snapshots.Get(p, own, linuxCount),
                };
                return Test(o);
            }
            catch (FormatException e)
            {
                Console.Error.WriteLine($"khoemu: {e.Message}");
                return 2;
            }
        });
        return test;
    }

    public static Command BuildScenarios()
    {
        var cmd = new Command("scenarios", "List the guest scenarios `khoemu test` can run: the project's own, then upstream Linux's "
            + "KHO/LUO selftests on the KHO guest (tests/linux/kho/prepare.sh).");
        cmd.SetAction(_ =>
        {
            int width = Scenarios.All.Select(s => s.Name).Concat(LinuxScenarios.All.Select(s => s.Name)).Max(n => n.Length) + 1;
            foreach (var s in Scenarios.All) Console.WriteLine($"{s.Name.PadRight(width)}{s.Description}");
            foreach (var s in LinuxScenarios.All) Console.WriteLine($"{s.Name.PadRight(width)}{s.Description}");
            return 0;
        });
        return cmd;
    }

    private static ulong MemoryOption(string text)
    {
        try { return SizeParser.Parse(text); }
        catch (FormatException e) { throw new FormatException($"-m: {e.Message}"); }
    }

    private sealed record TestOptions(string[] Names, bool Verbose, bool AllLinux, string? GuestDir, string Append)
    {
        public ulong? Memory { get; init; }
        public ulong? MaxInstructions { get; init; }
        public TimeSpan? Timeout { get; init; }
        public byte[]? Kernel { get; init; }
        public FileInfo? InitFile { get; init; }
        public byte[]? Init { get; init; }
        public FileInfo? Junit { get; init; }
        public FileInfo? Json { get; init; }
        /// <summary><c>--from-snapshot</c>/<c>--next-kernel</c>, read once the scenarios are known (own count, Linux count).</summary>
        public Func<int, int, TestSnapshotOptions.Plan>? SnapshotPlan { get; init; }
    }

    /// <summary>Opens a report file before any scenario runs, so a bad path fails in a second, not after the suite.</summary>
    private static FileStream OpenReport(string option, FileInfo f)
    {
        if (Directory.Exists(f.FullName)) throw new FormatException($"{option} {f}: is a directory");
        try { return new FileStream(f.FullName, FileMode.Create, FileAccess.Write, FileShare.Read); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new FormatException($"{option} {f}: cannot create: {e.Message}");
        }
    }

    private static int Test(TestOptions t)
    {
        var own = new List<Scenario>();
        var linux = new List<LinuxScenario>();
        if (t.Init is not null)
        {
            if (t.Names.Length > 0 || t.AllLinux)
                throw new FormatException("--init runs your program as the only scenario; it cannot be combined with scenario names or --linux");
            own.Add(Scenarios.UserInit(t.InitFile!.ToString()));
        }
        foreach (var n in t.Init is not null ? [] : t.Names.Length == 0 && !t.AllLinux ? Scenarios.All.Select(s => s.Name) : t.Names)
        {
            if (Scenarios.Find(n) is { } s) own.Add(s);
            else if (LinuxScenarios.Find(n) is { } l) { if (!linux.Contains(l)) linux.Add(l); }
            else
                throw new FormatException($"unknown scenario '{n}' (known: "
                    + $"{string.Join(", ", Scenarios.All.Select(x => x.Name).Concat(LinuxScenarios.All.Select(x => x.Name)))})");
        }
        if (t.AllLinux) linux.AddRange(LinuxScenarios.All.Where(l => !linux.Contains(l)));
        if (linux.Count > 0 && t.Kernel is not null)
            throw new FormatException("--kernel replaces the project's kernel; the Linux scenarios boot the guest's bzImage (--linux-guest DIR)");
        var plan = t.SnapshotPlan?.Invoke(t.Names.Length == 0 ? 0 : own.Count, linux.Count) ?? new TestSnapshotOptions.Plan(null, null);
        LinuxGuest? guest = null;
        if (linux.Count > 0)
        {
            try { guest = LinuxGuest.Locate(t.GuestDir); }
            catch (LinuxGuestException e) { throw new FormatException(e.Message); }
        }
        using var junitFile = t.Junit is null ? null : OpenReport("--junit", t.Junit);
        using var jsonFile = t.Json is null ? null : OpenReport("--json", t.Json);

        var started = DateTime.UtcNow;
        var outcomes = new List<ScenarioOutcome>();
        var tally = new Tally();
        using var stdout = t.Verbose ? Console.OpenStandardOutput() : null;
        var options = new ScenarioOptions
        {
            LiveSerial = stdout, ExtraCmdline = t.Append, MemorySize = t.Memory, MaxInstructions = t.MaxInstructions,
            Timeout = t.Timeout, Kernel = t.Kernel, Init = t.Init,
        };
        foreach (var s in own)
        {
            Console.WriteLine($"# scenario {s.Name}");
            ScenarioResult r;
            try { r = plan.Run(s, options); }
            catch (Exception e) when (e is KhoEmu.Machine.Boot.BootException or ArgumentException)
            {
                throw new FormatException($"cannot boot scenario {s.Name}: {e.Message}");
            }
            var outcome = ScenarioOutcome.From(r, t.Timeout);
            outcomes.Add(outcome);
            tally.Print(outcome, t.Verbose);
            Console.WriteLine($"# {s.Name}: {r.Instructions} instructions in {r.Wall.TotalSeconds:F2} s");
        }
        foreach (var s in linux)
        {
            Console.WriteLine($"# scenario {s.Name} ({guest!.Image(s)}, -append \"{LinuxScenarios.CommandLine(s, t.Append)}\", one CPU)");
            LinuxScenarioResult r;
            try { r = LinuxScenarios.Run(s, guest, options); }
            catch (LinuxGuestException e) { throw new FormatException(e.Message); }
            var outcome = ScenarioOutcome.From(r);
            outcomes.Add(outcome);
            tally.Print(outcome, t.Verbose);
            Console.WriteLine($"# {s.Name}: {r.Instructions} instructions in {r.Wall.TotalSeconds:F2} s "
                + $"({r.VirtualNanoseconds / 1e9:F2} s virtual; ended {r.Exit.Kind})");
        }
        Console.WriteLine($"{tally.Passed} passed, {tally.Failed} failed" + (tally.Skipped > 0 ? $", {tally.Skipped} skipped" : ""));
        if (junitFile is not null)
        {
            JunitReport.Build(outcomes, started).Save(junitFile);
            Console.WriteLine($"# JUnit report: {t.Junit}");
        }
        if (jsonFile is not null)
        {
            using (var w = new StreamWriter(jsonFile)) w.Write(JsonReport.Text(JsonReport.Build(outcomes, started)));
            Console.WriteLine($"# JSON report: {t.Json}");
        }
        return tally.Failed == 0 ? 0 : 1;
    }

    /// <summary>Prints one scenario's per-test lines, oracle summary and (on failure) the console's end; counts them.</summary>
    private sealed class Tally
    {
        public int Passed { get; private set; }
        public int Failed { get; private set; }
        public int Skipped { get; private set; }

        public void Print(ScenarioOutcome o, bool verbose)
        {
            foreach (var c in o.Checks)
            {
                if (c.Extra) Console.WriteLine($"  FAIL {o.Name}: {c.Message}");
                else
                {
                    string status = c.Verdict switch { Verdict.Skip => "SKIP", Verdict.Pass => "PASS", _ => "FAIL" };
                    Console.WriteLine($"  {status} {o.Name}/{c.Name}{(c.Message is null ? "" : $" ({c.Message})")}");
                }
                if (c.Verdict == Verdict.Skip) Skipped++;
                else if (c.Verdict == Verdict.Pass) Passed++;
                else Failed++;
            }
            var oracle = o.Oracle;
            if (oracle.Handovers > 0)
            {
                Console.WriteLine($"# kho oracle: {oracle.Handovers} handover(s), {oracle.PreservedBlocks} preserved blocks "
                    + $"({oracle.PreservedBytes / 1024} KiB), {oracle.RestoredBlocks - oracle.DeviceWrittenBlocks} restored unchanged, "
                    + $"{oracle.DeviceWrittenBlocks} written only by device DMA, {oracle.Unrestored} left reserved"
                    + (oracle.HandoverProblem is { } hp ? $"; handover unreadable: {hp}" : ""));
            }
            if (oracle.DmaWritesChecked > 0)
                Console.WriteLine($"# dma oracle: {oracle.DmaWritesChecked} device DMA writes checked against the IOMMU tables");
            if (o.Failed > 0 && !verbose)
            {
                Console.WriteLine($"# last serial output of {o.Name}:");
                foreach (var line in o.Console.Split('\n').TakeLast(25)) Console.WriteLine("#   " + line.TrimEnd('\r'));
            }
        }
    }
}
