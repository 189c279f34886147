using System.Text;
using KhoEmu.Machine;

namespace KhoEmu.Harness;

/// <summary>
/// Upstream Linux's KHO/LUO selftests (tools/testing/selftests/kho and liveupdate) booted on the KHO guest with
/// <c>-no-reboot</c> semantics, judged by upstream's own pass markers and kselftest output, with the KHO oracle
/// watching. One CPU by default; upstream's vmtest.sh uses <c>-smp 2</c>, which <see cref="Run"/>'s <c>cpus</c> gives
/// (the first kernel's kexec then stops the other processor before it jumps).
/// </summary>
public static class LinuxScenarios
{
    public const string Prefix = "linux-";

    /// <summary>1 GiB, as upstream's vmtest.sh and run-qemu.sh give QEMU.</summary>
    public const ulong MemorySize = 1UL << 30;

    /// <summary>Virtual time after which an idle hang ends (a kernel waiting in HLT runs few instructions per virtual
    /// second and would take hours to spend its budget). The slowest test needs under 10 s of virtual time.</summary>
    public const ulong VirtualTimeLimitNs = 300_000_000_000;

    /// <summary>The run goes in slices so the virtual-time limit is checked between them.</summary>
    private const ulong Slice = 100_000_000;

    // Kernel messages every kexec test passes on its way (kernel/kexec_core.c, kernel/liveupdate/kexec_handover.c,
    // init/main.c); the kexec line splits the console into the two kernels' parts.
    public const string InitMarker = "Run /init as init process";
    public const string KexecMarker = "kexec_core: Starting new kernel";
    public const string HandoverMarker = "KHO: found kexec handover data.";

    public static IReadOnlyList<LinuxScenario> All { get; } =
    [
        new("kho", LinuxTestKind.Kexec, "upstream selftests/kho: the KHO test module preserves state, kexec, the next kernel restores and checks it",
            "kho=on", "KHO restore succeeded", 6_000_000_000),
        new("luo_kexec_simple", LinuxTestKind.Kexec, "upstream selftests/liveupdate: one session with one memfd survives a kexec, contents verified",
            "liveupdate=on", "TEST PASSED", 6_000_000_000),
        new("luo_multi_session", LinuxTestKind.Kexec, "upstream selftests/liveupdate: several sessions, empty and with memfds, survive a kexec",
            "liveupdate=on", "TEST PASSED", 6_000_000_000),
        new("luo_stress_files", LinuxTestKind.Kexec, "upstream selftests/liveupdate: 500 memfds in one session survive a kexec",
            "liveupdate=on", "TEST PASSED", 6_000_000_000),
        new("luo_stress_sessions", LinuxTestKind.Kexec, "upstream selftests/liveupdate: 2000 sessions survive a kexec",
            "liveupdate=on", "TEST PASSED", 8_000_000_000),
        new("liveupdate", LinuxTestKind.Kselftest, "upstream selftests/liveupdate/liveupdate.c: 15 kselftest-harness cases on /dev/liveupdate (no kexec)",
            "liveupdate=on", "# Totals: pass:15 fail:0", 4_000_000_000),
    ];

    public static LinuxScenario? Find(string name) => All.FirstOrDefault(s => s.Name == name);

    /// <summary>The kernel command line: the console, the test's options, panic=-1 (a panic reboots, which
    /// <c>-no-reboot</c> turns into the end of the run), then <paramref name="extra"/> (a later option wins, so
    /// <c>kho=off</c> there is the negative control).</summary>
    public static string CommandLine(LinuxScenario scenario, string extra = "") =>
        $"console=ttyS0 {scenario.Append} panic=-1 {extra}".Trim();

    /// <summary>The name of the check a kexec test adds for the KHO oracle having read the handover at the jump.</summary>
    public const string OracleCheck = "the KHO oracle reads the handover at the jump";

    /// <summary>Boots <paramref name="scenario"/> from <paramref name="guest"/> on a fresh machine with
    /// <paramref name="cpus"/> processors (QEMU's <c>-smp N</c>: N cores in one socket). Unreadable or unbootable guest
    /// files are a <see cref="LinuxGuestException"/>; whatever the guest does is a result. The instruction budget
    /// counts the instructions of all processors together.</summary>
    public static LinuxScenarioResult Run(LinuxScenario scenario, LinuxGuest guest, Stream? liveSerial = null, string extraCmdline = "",
        int cpus = 1) =>
        Run(scenario, guest, new ScenarioOptions { LiveSerial = liveSerial, ExtraCmdline = extraCmdline, Cpus = cpus });

    /// <summary>As above with the user's RAM, processors, instruction budget and wall-clock limit (<c>khoemu test -m
    /// -smp --max-instructions --timeout</c>); a kernel or init override does not apply to Linux.</summary>
    public static LinuxScenarioResult Run(LinuxScenario scenario, LinuxGuest guest, ScenarioOptions options)
    {
        int cpus = options.Cpus;
        if (cpus < 1 || cpus > KhoEmu.Cpu.Smp.CpuTopology.MaxCpus)
            throw new ArgumentOutOfRangeException(nameof(options), $"a machine has 1 to {KhoEmu.Cpu.Smp.CpuTopology.MaxCpus} processors, not {cpus}");
        var (kernel, initrd) = guest.Load(scenario);
        var liveSerial = options.LiveSerial;
        string extraCmdline = options.ExtraCmdline;
        ulong budget = options.MaxInstructions ?? scenario.InstructionBudget;
        var serial = new MemoryStream();
        var config = new MachineConfig
        {
            Kernel = kernel,
            KernelName = guest.BzImage,
            Initrd = initrd,
            InitrdName = guest.Image(scenario),
            MemorySize = options.MemorySize ?? MemorySize,
            CommandLine = CommandLine(scenario, extraCmdline),
            SerialOutput = liveSerial is null ? serial : new Scenarios.TeeStream(serial, liveSerial),
            NoReboot = true,
            Smp = cpus == 1 ? KhoEmu.Cpu.Smp.CpuTopology.Single : KhoEmu.Cpu.Smp.CpuTopology.Cores1Socket(cpus),
        };
        PcMachine built;
        try { built = new PcMachine(config); }
        catch (Exception e) when (e is KhoEmu.Machine.Boot.BootException or ArgumentException)
        {
            throw new LinuxGuestException($"cannot boot {guest.BzImage} with {guest.Image(scenario)}: {e.Message} (re-run {LinuxGuest.PrepareScript})");
        }
        using var machine = built;
        // Function names in the oracle's reports come from the guest's vmlinux (it keeps its symbols); without a
        // readable one the reports give bare addresses.
        if (File.Exists(guest.Vmlinux)) machine.KhoOracle.Symbols = SymbolFiles.TryLoad(guest.Vmlinux, out _);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        MachineExit exit;
        string? limit = null;
        while (true)
        {
            exit = machine.Run(Math.Min(Slice, budget - machine.InstructionCount));
            if (exit.Kind != ExitKind.InstructionLimit) break;
            if (machine.InstructionCount >= budget) { limit = $"the {budget:N0}-instruction budget"; break; }
            if (machine.Clock.Now >= VirtualTimeLimitNs) { limit = $"the {VirtualTimeLimitNs / 1_000_000_000} s virtual-time limit"; break; }
            // Host time, read between slices (never inside the machine): the user's wall-clock limit.
            if (options.Timeout is { } timeout && sw.Elapsed >= timeout) { limit = "timeout"; break; }
        }
        sw.Stop();
        string text = Encoding.ASCII.GetString(serial.ToArray());
        var (judged, problems) = Judge(scenario, text, exit);
        var checks = judged.ToList();
        var o = machine.KhoOracle;
        // A kexec test passes only if the oracle itself read the handover at the jump (0 violations of an oracle
        // that saw nothing would prove nothing).
        // It goes before the last check (the guest ending the run), and QEMU's runs, judged from the console alone,
        // have no such check.
        if (scenario.Kind == LinuxTestKind.Kexec)
        {
            bool seen = o.Handovers > 0 && o.HandoverProblem is null;
            checks.Insert(checks.Count - 1, new KtapTest(0, OracleCheck, seen, false,
                seen ? null : o.HandoverProblem ?? "no handover seen at the next kernel's entry"));
            checks = checks.Select((c, i) => c with { Number = i + 1 }).ToList();
        }
        return new LinuxScenarioResult(scenario, exit, checks, problems, text, machine.InstructionCount, machine.Clock.Now, sw.Elapsed,
            OracleReport.From(machine.KhoOracle)) { Limit = limit };
    }

    /// <summary>
    /// Judges a console as upstream's runners do (vmtest.sh greps the pass marker; kselftest's TAP report), plus the
    /// stages a kexec test passes through (so a failure says where it stopped) and the guest ending the run itself.
    /// The console is split at the first kernel's last words (<see cref="KexecMarker"/>): the stage-1 check must be
    /// before it, the next kernel's after it. Within one kernel no order is required: the kernel's messages and
    /// /init's writes reach the serial port through different buffers and interleave (KhoEmu shows the stage-2
    /// kernel's "Run /init" after /init's own output). Pure: tests feed it recorded consoles.
    /// </summary>
    public static (IReadOnlyList<KtapTest> Checks, IReadOnlyList<string> Problems) Judge(LinuxScenario scenario, string console, MachineExit exit)
    {
        var checks = new List<KtapTest>();
        var problems = new List<string>();
        void Check(string name, bool ok, string? reason) => checks.Add(new KtapTest(checks.Count + 1, name, ok, false, ok ? null : reason));
        if (scenario.Kind == LinuxTestKind.Kexec)
        {
            int kexec = console.IndexOf(KexecMarker, StringComparison.Ordinal);
            string first = kexec < 0 ? console : console[..kexec];
            string next = kexec < 0 ? "" : console[(kexec + KexecMarker.Length)..];
            void InNext(string name, string marker) =>
                Check(name, next.Contains(marker, StringComparison.Ordinal), kexec < 0 ? "no kexec" : $"no \"{marker}\" after the kexec");
            Check("first kernel runs /init (stage 1)", first.Contains(InitMarker, StringComparison.Ordinal), $"no \"{InitMarker}\" before a kexec");
            Check("kexec into the next kernel", kexec >= 0, $"no \"{KexecMarker}\" on the console");
            InNext("next kernel finds the KHO handover", HandoverMarker);
            // The kho test's next kernel checks the state during boot and has no initramfs (it panics for want of
            // an init); the liveupdate tests' stage 2 is their /init again.
            if (scenario.Test != "kho") InNext("next kernel runs /init (stage 2)", InitMarker);
            InNext($"upstream marker \"{scenario.PassMarker}\"", scenario.PassMarker);
        }
        else
        {
            var report = KtapReport.Parse(console);
            foreach (var t in report.Tests) checks.Add(t with { Number = checks.Count + 1 });
            problems.AddRange(report.Problems);
            Check($"upstream marker \"{scenario.PassMarker}\"", console.Contains(scenario.PassMarker, StringComparison.Ordinal),
                $"no \"{scenario.PassMarker}\" on the console");
        }
        bool guestEnded = exit.Kind is ExitKind.Reset or ExitKind.PowerOff;
        Check("the guest ends the run (reset or power-off)", guestEnded, $"{exit.Kind}{(exit.Diagnostic is null ? "" : ": " + exit.Diagnostic)}");
        return (checks, problems);
    }
}
