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
        var test = new Command("test", "Boot each scenario, judge its report (KTAP, or upstream's markers for the Linux selftests) and "
            + "print per-test results and a closing 'N passed, N failed' line. Exit code 0 only if nothing failed; 2 for bad "
            + "names or a missing Linux guest.") { names, verbose, linux, guest, append };
        var snapshots = new TestSnapshotOptions(test);
        test.SetAction(p => Test(p.GetValue(names) ?? [], p.GetValue(verbose), p.GetValue(linux), p.GetValue(guest), p.GetValue(append) ?? "",
            (own, linuxCount) => snapshots.Get(p, own, linuxCount)));
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

    private static int Test(string[] names, bool verbose, bool allLinux, string? guestDir, string append,
        Func<int, int, TestSnapshotOptions.Plan> snapshotPlan)
    {
        var own = new List<Scenario>();
        var linux = new List<LinuxScenario>();
        foreach (var n in names.Length == 0 && !allLinux ? Scenarios.All.Select(s => s.Name) : names)
        {
            if (Scenarios.Find(n) is { } s) own.Add(s);
            else if (LinuxScenarios.Find(n) is { } l) { if (!linux.Contains(l)) linux.Add(l); }
            else
            {
                Console.Error.WriteLine($"khoemu: unknown scenario '{n}' (known: "
                    + $"{string.Join(", ", Scenarios.All.Select(x => x.Name).Concat(LinuxScenarios.All.Select(x => x.Name)))})");
                return 2;
            }
        }
        if (allLinux) linux.AddRange(LinuxScenarios.All.Where(l => !linux.Contains(l)));
        TestSnapshotOptions.Plan plan;
        try { plan = snapshotPlan(names.Length == 0 ? 0 : own.Count, linux.Count); }
        catch (FormatException e)
        {
            Console.Error.WriteLine($"khoemu: {e.Message}");
            return 2;
        }
        LinuxGuest? guest = null;
        if (linux.Count > 0)
        {
            try { guest = LinuxGuest.Locate(guestDir); }
            catch (LinuxGuestException e)
            {
                Console.Error.WriteLine($"khoemu: {e.Message}");
                return 2;
            }
        }

        var tally = new Tally();
        using var stdout = verbose ? Console.OpenStandardOutput() : null;
        foreach (var s in own)
        {
            Console.WriteLine($"# scenario {s.Name}");
            ScenarioResult r;
            try { r = plan.Run(s, stdout, append); }
            catch (FormatException e)
            {
                Console.Error.WriteLine($"khoemu: {e.Message}");
                return 2;
            }
            string? stop = r.Exit.Kind != ExitKind.DebugExit ? $"machine stopped: {r.Exit.Kind} {r.Exit.Diagnostic}" : null;
            tally.Print(s.Name, r.Report.Tests, r.Report.Problems, stop, r.Oracle, r.Passed, r.Serial, verbose);
            Console.WriteLine($"# {s.Name}: {r.Instructions} instructions in {r.Wall.TotalSeconds:F2} s");
        }
        foreach (var s in linux)
        {
            Console.WriteLine($"# scenario {s.Name} ({guest!.Image(s)}, -append \"{LinuxScenarios.CommandLine(s, append)}\", one CPU)");
            LinuxScenarioResult r;
            try { r = LinuxScenarios.Run(s, guest, stdout, append); }
            catch (LinuxGuestException e)
            {
                Console.Error.WriteLine($"khoemu: {e.Message}");
                return 2;
            }
            tally.Print(s.Name, r.Checks, r.Problems, r.Limit is null ? null : $"stopped at {r.Limit}", r.Oracle, r.Passed, r.Serial, verbose);
            Console.WriteLine($"# {s.Name}: {r.Instructions} instructions in {r.Wall.TotalSeconds:F2} s "
                + $"({r.VirtualNanoseconds / 1e9:F2} s virtual; ended {r.Exit.Kind})");
        }
        Console.WriteLine($"{tally.Passed} passed, {tally.Failed} failed" + (tally.Skipped > 0 ? $", {tally.Skipped} skipped" : ""));
        return tally.Failed == 0 ? 0 : 1;
    }

    /// <summary>Prints one scenario's per-test lines, oracle summary and (on failure) the console's end; counts them.</summary>
    private sealed class Tally
    {
        public int Passed { get; private set; }
        public int Failed { get; private set; }
        public int Skipped { get; private set; }

        public void Print(string name, IReadOnlyList<KtapTest> tests, IReadOnlyList<string> problems, string? stop, OracleReport oracle,
            bool passed, string serial, bool verbose)
        {
            foreach (var t in tests)
            {
                string status = t.Skipped ? "SKIP" : t.Ok ? "PASS" : "FAIL";
                Console.WriteLine($"  {status} {name}/{t.Name}{(t.Reason is null ? "" : $" ({t.Reason})")}");
                if (t.Skipped) Skipped++;
                else if (t.Ok) Passed++;
                else Failed++;
            }
            foreach (var problem in problems) Fail(name, problem);
            if (stop is not null) Fail(name, stop);
            if (oracle.Handovers > 0)
            {
                Console.WriteLine($"# kho oracle: {oracle.Handovers} handover(s), {oracle.PreservedBlocks} preserved blocks "
                    + $"({oracle.PreservedBytes / 1024} KiB), {oracle.RestoredBlocks - oracle.DeviceWrittenBlocks} restored unchanged, "
                    + $"{oracle.DeviceWrittenBlocks} written only by device DMA, {oracle.Unrestored} left reserved"
                    + (oracle.HandoverProblem is { } hp ? $"; handover unreadable: {hp}" : ""));
            }
            if (oracle.DmaWritesChecked > 0)
                Console.WriteLine($"# dma oracle: {oracle.DmaWritesChecked} device DMA writes checked against the IOMMU tables");
            foreach (var v in oracle.Violations) Fail(name, $"oracle: {v}");
            if (!passed && !verbose)
            {
                Console.WriteLine($"# last serial output of {name}:");
                foreach (var line in serial.Split('\n').TakeLast(25)) Console.WriteLine("#   " + line.TrimEnd('\r'));
            }
        }

        private void Fail(string name, string what)
        {
            Console.WriteLine($"  FAIL {name}: {what}");
            Failed++;
        }
    }
}
