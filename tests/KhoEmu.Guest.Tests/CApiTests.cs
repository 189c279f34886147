using System.Text;
using System.Text.RegularExpressions;
using KhoEmu.Harness;
using KhoEmu.Machine;
using NUnit.Framework;

namespace KhoEmu.Guest.Tests;

/// <summary>
/// The C test API (tests/c/khoemu.h): its numbers, sizes and offsets equal Linux's own headers and the guest kernel's
/// syscall table, and the C example test (tests/c/memfd_liveupdate.c), built here with gcc, passes as init on
/// KhoEmu's kernel.
/// </summary>
[TestFixture, NonParallelizable]
public sealed partial class CApiTests
{
    private string _dir = "";
    private static string CDir => Path.Combine(RepoPaths.Root(), "tests", "c");

    /// <summary>gcc's command line for a freestanding test, as docs/testing.md gives it.</summary>
    public static readonly string[] FreestandingFlags = ["-static", "-nostdlib", "-ffreestanding", "-fno-pie", "-no-pie", "-O2", "-Wall", "-Wextra", "-Werror"];

    [OneTimeSetUp]
    public void Build()
    {
        if (!HostTool.Exists("gcc")) Assert.Ignore("gcc is not installed");
        _dir = Path.Combine(Path.GetTempPath(), $"khoemu-capi-{Environment.ProcessId}");
        Directory.CreateDirectory(_dir);
    }

    [OneTimeTearDown]
    public void Clean()
    {
        if (_dir.Length > 0 && Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    /// <summary>Compiles <paramref name="source"/> (in tests/c) into the temp directory; fails the test on a gcc error.</summary>
    public static string Gcc(string dir, string source, string output, params string[] flags)
    {
        string exe = Path.Combine(dir, output);
        var r = HostTool.Run("gcc", [.. flags, "-I", CDir, "-o", exe, Path.Combine(CDir, source)], dir, TimeSpan.FromMinutes(2));
        Assert.That(r.ExitCode, Is.Zero, $"gcc {source}: {r.Stderr}");
        return exe;
    }

    private static string Run(string exe)
    {
        var r = HostTool.Run(exe, [], Path.GetDirectoryName(exe)!, TimeSpan.FromMinutes(1));
        Assert.That(r.ExitCode, Is.Zero, r.Stderr);
        return r.Text;
    }

    /// <summary>The Linux 7.3 source tree tests/linux/kho/prepare.sh built (its include/uapi), or null.</summary>
    private static string? LinuxTree()
    {
        string cache = Environment.GetEnvironmentVariable("KHOEMU_CACHE")
            ?? Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") ?? Path.Combine(Environment.GetEnvironmentVariable("HOME") ?? "/", ".cache"), "khoemu");
        string root = Path.Combine(cache, "linux-kho");
        if (!Directory.Exists(root)) return null;
        return Directory.GetDirectories(root, "tree-*").FirstOrDefault(t => File.Exists(Path.Combine(t, "include", "uapi", "linux", "liveupdate.h")));
    }

    [Test]
    public void HeaderAgreesWithLinuxUapiHeaders()
    {
        string? tree = LinuxTree();
        if (tree is null) Assert.Ignore("no Linux 7.3 tree (tests/linux/kho/prepare.sh builds one)");
        string ours = Run(Gcc(_dir, "uapi_dump.c", "dump-khoemu", "-O0", "-Wall", "-Werror"));
        // The tree's raw uapi headers (not headers_install's output): __user is theirs to strip, the #warning is
        // the kernel telling user space to prefer installed headers.
        string linux = Run(Gcc(_dir, "uapi_dump.c", "dump-linux", "-O0", "-Wall", "-Wno-cpp", "-D__user=", "-DKH_LINUX",
            "-isystem", Path.Combine(tree, "include", "uapi")));
        Assert.That(ours.Split('\n'), Has.Length.GreaterThan(90));
        Assert.That(ours, Is.EqualTo(linux), "khoemu.h differs from Linux's uapi headers");
    }

    [Test]
    public void SyscallNumbersAreTheGuestKernels()
    {
        string ours = Run(Gcc(_dir, "uapi_dump.c", "dump-khoemu", "-O0", "-Wall", "-Werror"));
        var header = ours.Split('\n').Where(l => l.StartsWith("__NR_")).Select(l => l.Split(' '))
            .ToDictionary(p => p[0]["__NR_".Length..].Replace("_", ""), p => long.Parse(p[1]), StringComparer.OrdinalIgnoreCase);
        string source = File.ReadAllText(Path.Combine(RepoPaths.Root(), "guestkernel", "kernel", "Proc", "Syscalls.cs"));
        // The kernel's numbers: the one "public const long ... ;" declaration of Syscalls.
        int start = source.IndexOf("public const long ", StringComparison.Ordinal);
        Assert.That(start, Is.GreaterThanOrEqualTo(0), "Syscalls.cs declares its numbers as public const long");
        string table = source[start..source.IndexOf(';', start)];
        var kernel = KernelConst().Matches(table).ToDictionary(m => m.Groups[1].Value, m => long.Parse(m.Groups[2].Value), StringComparer.OrdinalIgnoreCase);
        Assert.That(kernel, Has.Count.GreaterThanOrEqualTo(15), "the kernel's syscall constants were found");
        foreach (var (name, nr) in kernel)
        {
            Assert.That(header.ContainsKey(name), Is.True, $"khoemu.h lacks the kernel's syscall {name}");
            Assert.That(header[name], Is.EqualTo(nr), $"syscall {name}");
        }
    }

    [GeneratedRegex(@"\b([A-Z][A-Za-z0-9]*) = (\d+)\b")]
    private static partial Regex KernelConst();

    [Test]
    public void ExampleTestPassesAsInitOnKhoEmu()
    {
        byte[] init = File.ReadAllBytes(Gcc(_dir, "memfd_liveupdate.c", "memfd_liveupdate", FreestandingFlags));
        var serial = new MemoryStream();
        var config = new MachineConfig
        {
            Firmware = GuestImages.Firmware,
            Kernel = GuestImages.Kernel,
            MemorySize = 512UL << 20,
            SerialOutput = serial,
        };
        config.FwCfgFiles.Add(("opt/khoemu/init", init));
        MachineExit exit;
        using (var machine = new PcMachine(config)) exit = machine.Run(2_000_000_000);
        string text = Encoding.ASCII.GetString(serial.ToArray());
        var report = KtapReport.Parse(text);
        Assert.That(report.Problems, Is.Empty, text);
        Assert.That(report.Tests.Where(t => !t.Ok).Select(t => $"{t.Name}: {t.Reason}"), Is.Empty, text);
        Assert.That(report.Tests, Has.Count.EqualTo(13), text);
        Assert.That(report.Tests.Select(t => t.Name), Does.Contain("preserve_memfd").And.Contain("memfd_read_back"));
        Assert.That(text, Does.Contain("c example: all passed"));
        // init's exit status 0 reaches isa-debug-exit as (0 << 1) | 1.
        Assert.That((exit.Kind, exit.ExitCode), Is.EqualTo((ExitKind.DebugExit, 1)), exit.Diagnostic);
    }

    [Test]
    public void ExampleAlsoBuildsAgainstGlibc()
    {
        string exe = Gcc(_dir, "memfd_liveupdate.c", "memfd_liveupdate_glibc", "-static", "-O2", "-Wall", "-Werror");
        Assert.That(new FileInfo(exe).Length, Is.GreaterThan(0));
    }
}
