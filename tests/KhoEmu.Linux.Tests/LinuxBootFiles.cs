using NUnit.Framework;

namespace KhoEmu.Linux.Tests;

/// <summary>
/// The boot files tests/linux/prepare.sh leaves in its cache directory: Debian's bzImage, the PVH vmlinux inside
/// it, and the initramfs with busybox, /init and the x87 test program.
/// </summary>
internal sealed record LinuxBootFiles(string Directory)
{
    public string BzImage => Path.Combine(Directory, "bzImage");
    public string Vmlinux => Path.Combine(Directory, "vmlinux");
    public string Initrd => Path.Combine(Directory, "initrd.cpio.gz");
    public string Versions => File.ReadAllText(Path.Combine(Directory, "versions")).Trim();

    /// <summary>
    /// Runs the prepare script (downloads on the first run, seconds afterwards). A failure is a test failure, not
    /// a skip: without the files nothing proves the kernel boots.
    /// </summary>
    public static LinuxBootFiles Prepare()
    {
        string script = Path.Combine(RepoPaths.Root(), "tests", "linux", "prepare.sh");
        HostTool.Result r;
        try { r = HostTool.Run("bash", [script], Path.GetDirectoryName(script)!, TimeSpan.FromMinutes(10)); }
        catch (TimeoutException e) { Assert.Fail($"tests/linux/prepare.sh: {e.Message}"); throw; }
        string dir = r.Text.Trim().Split('\n')[^1].Trim();
        if (r.ExitCode != 0 || !System.IO.Directory.Exists(dir))
        {
            string reason = r.Stderr.Trim().Split('\n').LastOrDefault(l => l.Length > 0) ?? $"exit code {r.ExitCode}";
            Assert.Fail($"tests/linux/prepare.sh failed: {reason}\n{r.Stderr}");
        }
        var files = new LinuxBootFiles(dir);
        foreach (var f in new[] { files.BzImage, files.Vmlinux, files.Initrd })
            Assert.That(File.Exists(f), Is.True, $"prepare.sh left no {f}");
        TestContext.Progress.WriteLine($"linux boot files: {dir} ({files.Versions.Replace('\n', ',')})");
        return files;
    }
}
