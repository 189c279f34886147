using System.Diagnostics;

namespace KhoEmu.Harness;

/// <summary>
/// The directory tests/linux/kho/prepare.sh fills: bzImage, vmlinux and one initramfs per upstream test. Found from
/// an explicit directory (`--linux-guest DIR`), else <see cref="EnvironmentVariable"/>, else by running the
/// repository's prepare.sh when khoemu runs from (or was built in) a checkout.
/// </summary>
public sealed record LinuxGuest(string Directory)
{
    public const string EnvironmentVariable = "KHOEMU_LINUX_GUEST";
    public const string PrepareScript = "tests/linux/kho/prepare.sh";

    private const string HowToPrepare = "run " + PrepareScript + " in a KhoEmu checkout and pass the directory it prints with --linux-guest DIR or "
        + EnvironmentVariable + "=DIR";

    public string BzImage => Path.Combine(Directory, "bzImage");
    public string Vmlinux => Path.Combine(Directory, "vmlinux");
    public string Image(LinuxScenario scenario) => Path.Combine(Directory, scenario.ImageFile);

    /// <summary>The kernel and the scenario's initramfs, read from the directory.</summary>
    public (byte[] Kernel, byte[] Initrd) Load(LinuxScenario scenario)
    {
        try { return (File.ReadAllBytes(BzImage), File.ReadAllBytes(Image(scenario))); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LinuxGuestException($"Linux guest {Directory}: {e.Message} (re-run {PrepareScript})");
        }
    }

    /// <summary>Finds the guest; <paramref name="directory"/> (the option) wins over the environment, which wins over
    /// the prepare script. Throws <see cref="LinuxGuestException"/> when there is none.</summary>
    public static LinuxGuest Locate(string? directory)
    {
        if (!string.IsNullOrEmpty(directory)) return Checked(directory, "--linux-guest");
        string? env = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrEmpty(env)) return Checked(env, EnvironmentVariable);
        string script = FindScript() ?? throw new LinuxGuestException($"no Linux KHO guest: {HowToPrepare}");
        return Checked(RunPrepare(script), script);
    }

    private static LinuxGuest Checked(string directory, string from)
    {
        var guest = new LinuxGuest(Path.GetFullPath(directory));
        if (!System.IO.Directory.Exists(guest.Directory))
            throw new LinuxGuestException($"no Linux KHO guest at {directory} (from {from}): {HowToPrepare}");
        if (!File.Exists(guest.BzImage))
            throw new LinuxGuestException($"{directory} (from {from}) has no bzImage: {HowToPrepare}");
        return guest;
    }

    /// <summary>prepare.sh above the current directory or above khoemu's own build output (artifacts/ in the checkout).</summary>
    private static string? FindScript()
    {
        foreach (string start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, PrepareScript);
                if (File.Exists(candidate)) return candidate;
            }
        }
        return null;
    }

    /// <summary>Runs prepare.sh (seconds when its cache is filled; a kernel build the first time) with its progress on
    /// this process's stderr; its last stdout line is the directory.</summary>
    private static string RunPrepare(string script)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add(script);
        Process process;
        try { process = Process.Start(psi) ?? throw new LinuxGuestException($"cannot start bash for {script}"); }
        catch (System.ComponentModel.Win32Exception e) { throw new LinuxGuestException($"cannot run {script}: {e.Message}"); }
        using (process)
        {
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            string last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
            if (process.ExitCode != 0 || last.Length == 0)
                throw new LinuxGuestException($"{script} failed (exit {process.ExitCode}; its reason is on the line above)");
            return last;
        }
    }
}
