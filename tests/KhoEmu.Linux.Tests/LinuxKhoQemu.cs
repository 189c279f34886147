using KhoEmu.Harness;
using KhoEmu.Machine;

namespace KhoEmu.Linux.Tests;

/// <summary>
/// Runs a Linux selftest image on qemu-system-x86_64 as tests/linux/kho/run-qemu.sh does (q35, 1 GiB, one CPU or
/// <c>-smp N</c> as upstream's vmtest.sh, -no-reboot, the harness's command line) and judges the console with the harness's own judge.
/// </summary>
internal static class LinuxKhoQemu
{
    public sealed record Run(string Console, MachineExit Exit, IReadOnlyList<KtapTest> Checks, IReadOnlyList<string> Problems)
    {
        public bool Passed => Checks.All(c => c.Ok) && Problems.Count == 0;
        public string Tail(int lines = 40) => "QEMU, last console lines:\n"
            + string.Join('\n', Console.Split('\n').Select(l => l.TrimEnd('\r')).TakeLast(lines));
    }

    public static Run Boot(LinuxScenario scenario, LinuxGuest guest, string extraAppend = "", int cpus = 1)
    {
        var args = new List<string> { "-machine", "q35", "-m", "1G", "-smp", cpus.ToString(System.Globalization.CultureInfo.InvariantCulture), "-nographic", "-no-reboot",
            "-kernel", guest.BzImage, "-initrd", guest.Image(scenario), "-append", LinuxScenarios.CommandLine(scenario, extraAppend) };
        string text;
        MachineExit exit;
        try
        {
            var r = HostTool.Run("qemu-system-x86_64", args, guest.Directory, TimeSpan.FromMinutes(3));
            text = r.Text + r.Stderr;
            // QEMU exits 0 both on the guest's reset (under -no-reboot) and on its power-off; it cannot say which,
            // and the judge accepts either.
            exit = r.ExitCode == 0 ? new MachineExit(ExitKind.Reset, 0, null)
                : new MachineExit(ExitKind.Stopped, r.ExitCode, $"qemu-system-x86_64 exited {r.ExitCode}: {r.Stderr.Trim()}");
        }
        catch (TimeoutException e)
        {
            text = "";
            exit = new MachineExit(ExitKind.Stopped, MachineExit.CodeStopped, e.Message);
        }
        var (checks, problems) = LinuxScenarios.Judge(scenario, text, exit);
        return new Run(text, exit, checks, problems);
    }
}
