using System.Globalization;
using System.Text;
using KhoEmu.Machine;
using KhoEmu.Machine.Boot;

namespace KhoEmu.Linux.Tests;

/// <summary>
/// Boots the Linux check on KhoEmu (in process, through <see cref="PcMachine"/>) and on qemu-system-x86_64 with the
/// same kernel, initrd, RAM size, RTC start and command line.
/// </summary>
internal static class LinuxMachines
{
    /// <summary>The RTC start both machines get (QEMU's -rtc base=); /init compares the guest's date with it.</summary>
    public static readonly DateTime RtcBase = new(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    public const ulong MemorySize = 1UL << 30;

    /// <summary>Enough for the boot (about 2.3 G instructions before the board was complete) with room to spare;
    /// a busy hang (a panic's delay loop, a spinning driver) ends here instead of running forever.</summary>
    public const ulong InstructionLimit = 5_000_000_000;

    /// <summary>Virtual time (1 instruction = 1 ns, plus the time HLT skips) after which an idle hang ends: a kernel
    /// that stopped in its idle loop runs few instructions per second of guest time and would take hours to reach
    /// <see cref="InstructionLimit"/>. /init accepts a date up to 300 s after the RTC start, so no passing boot is
    /// cut short.</summary>
    public const ulong VirtualTimeLimitNs = 300_000_000_000;

    /// <summary>The run goes in slices so the virtual-time limit is checked between them.</summary>
    private const ulong Slice = 100_000_000;

    public static string RtcBaseText => RtcBase.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>The console for the kernel, and the RTC start for /init (a dotted name, so the kernel does not pass
    /// it on to init's environment). No mitigation, initcall or other tuning knobs.</summary>
    public static string CommandLine(DateTime rtcBase) =>
        "console=ttyS0 khoemu.rtc=" + rtcBase.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>Boots on KhoEmu with the console written to <paramref name="consoleLog"/> as it comes (tail it to
    /// watch a slow boot); <paramref name="cpus"/> processors (-smp).</summary>
    /// <param name="extraCommandLine">Appended to the kernel command line (e.g. <c>intel_iommu=on</c>).</param>
    /// <param name="iommu">The intel-iommu options (QEMU's <c>-device intel-iommu,...</c>); null for the defaults.</param>
    /// <param name="inspect">Called with the machine after the run, before it is disposed (device counters).</param>
    public static GuestConsole RunKhoEmu(string kernel, string initrd, string consoleLog, string extraCommandLine = "",
        KhoEmu.Devices.Iommu.IntelIommuOptions? iommu = null, Action<PcMachine>? inspect = null, int cpus = 1)
    {
        string ReadConsole() => File.ReadAllText(consoleLog, Encoding.ASCII);
        using var serial = new FileStream(consoleLog, FileMode.Create, FileAccess.Write, FileShare.Read, 1);
        var config = new MachineConfig
        {
            Kernel = File.ReadAllBytes(kernel),
            KernelName = kernel,
            Initrd = File.ReadAllBytes(initrd),
            MemorySize = MemorySize,
            CommandLine = CommandLine(RtcBase) + (extraCommandLine.Length > 0 ? " " + extraCommandLine : ""),
            Iommu = iommu ?? new(),
            SerialOutput = serial,
            RtcBase = DateTime.SpecifyKind(RtcBase, DateTimeKind.Unspecified),
            Smp = KhoEmu.Cpu.Smp.CpuTopology.Cores1Socket(cpus),
        };
        MachineExit exit;
        ulong instructions, virtualNs;
        double seconds;
        string? limit = null;
        try
        {
            using var machine = new PcMachine(config);
            var wall = System.Diagnostics.Stopwatch.StartNew();
            while (true)
            {
                exit = machine.Run(Math.Min(Slice, InstructionLimit - machine.InstructionCount));
                if (exit.Kind != ExitKind.InstructionLimit) break;
                if (machine.InstructionCount >= InstructionLimit) { limit = $"the {InstructionLimit:N0}-instruction limit"; break; }
                if (machine.Clock.Now >= VirtualTimeLimitNs) { limit = $"the {VirtualTimeLimitNs / 1_000_000_000} s virtual-time limit"; break; }
            }
            inspect?.Invoke(machine);
            instructions = machine.InstructionCount;
            virtualNs = machine.Clock.Now;
            seconds = wall.Elapsed.TotalSeconds;
        }
        catch (Exception e) when (e is BootException or ArgumentException)
        {
            serial.Flush();
            return new GuestConsole("KhoEmu", ReadConsole(), 2, $"cannot boot {Path.GetFileName(kernel)}: {e.Message}");
        }
        string ending = (limit is null ? $"{exit.Kind}{(exit.Diagnostic is null ? "" : ": " + exit.Diagnostic)}"
                : $"stopped at {limit} (the guest hung, or is far slower than expected)")
            + $" after {instructions:N0} instructions, {virtualNs / 1e9:F2} s of virtual time, {seconds:F1} s wall ({instructions / 1e6 / Math.Max(seconds, 1e-3):F1} MIPS)";
        serial.Flush();
        return new GuestConsole("KhoEmu", ReadConsole(), exit.ExitCode, ending) { Exit = exit };
    }

    /// <param name="iommuDevice">The intel-iommu <c>-device</c> value when <paramref name="withIommu"/>.</param>
    /// <param name="extraCommandLine">Appended to the kernel command line.</param>
    public static GuestConsole RunQemu(string kernel, string initrd, string workingDirectory, bool withIommu = true, DateTime? announcedRtc = null,
        string iommuDevice = "intel-iommu", string extraCommandLine = "", int cpus = 1)
    {
        // KhoEmu's q35 always has its VT-d unit at 0xFED90000, so QEMU gets intel-iommu to be the same board.
        var args = new List<string> { "-machine", "q35", "-m", "1G", "-nographic", "-no-reboot" };
        if (cpus != 1) args.AddRange(["-smp", cpus.ToString(CultureInfo.InvariantCulture)]);
        if (withIommu) args.AddRange(["-device", iommuDevice]);
        args.AddRange(["-kernel", kernel, "-initrd", initrd, "-rtc", "base=" + RtcBaseText, "-append",
            CommandLine(announcedRtc ?? RtcBase) + (extraCommandLine.Length > 0 ? " " + extraCommandLine : "")]);
        var r = HostTool.Run("qemu-system-x86_64", args, workingDirectory, TimeSpan.FromMinutes(3));
        return new GuestConsole("QEMU", r.Text + r.Stderr, r.ExitCode, $"qemu-system-x86_64 {string.Join(' ', args)}");
    }
}
