using System.Text;
using KhoEmu.Harness;
using KhoEmu.Machine;
using NUnit.Framework;

namespace KhoEmu.Linux.Tests;

/// <summary>
/// The C example test (tests/c/memfd_liveupdate.c, over tests/c/khoemu.h) as /init of an initramfs on the Linux
/// 7.3.4 KHO guest on KhoEmu: the same freestanding binary that passes on KhoEmu's own kernel (tests/KhoEmu.Guest.Tests)
/// passes on Linux, which shows the header's numbers and structs are Linux's. The initramfs is made here with the
/// Linux tree's gen_init_cpio, as tests/linux/kho/prepare.sh makes the selftest images. One boot of about a minute.
/// </summary>
[TestFixture, Explicit("boots Linux 7.3.4: dotnet test --filter TestCategory=LinuxKho"), NonParallelizable, Category("LinuxKho")]
public sealed class LinuxCExampleTests
{
    private LinuxGuest _guest = null!;
    private string _dir = "";

    [OneTimeSetUp]
    public void Prepare()
    {
        try { _guest = LinuxGuest.Locate(null); }
        catch (LinuxGuestException e) { Assert.Fail(e.Message); }
        if (!HostTool.Exists("gcc")) Assert.Fail("gcc is needed to build the C example");
        _dir = Path.Combine(Path.GetTempPath(), $"khoemu-linux-c-{Environment.ProcessId}");
        Directory.CreateDirectory(_dir);
    }

    [OneTimeTearDown]
    public void Clean()
    {
        if (_dir.Length > 0 && Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private string Initramfs()
    {
        string c = Path.Combine(RepoPaths.Root(), "tests", "c"), exe = Path.Combine(_dir, "init");
        // The flags docs/testing.md gives for a freestanding test (CApiTests.FreestandingFlags in the Guest tests).
        var gcc = HostTool.Run("gcc", ["-static", "-nostdlib", "-ffreestanding", "-fno-pie", "-no-pie", "-O2", "-Wall", "-Wextra", "-Werror",
            "-I", c, "-o", exe, Path.Combine(c, "memfd_liveupdate.c")], _dir, TimeSpan.FromMinutes(2));
        Assert.That(gcc.ExitCode, Is.Zero, gcc.Stderr);
        // prepare.sh's caches sit side by side: the guest's directory and the kernel tree it was built from.
        string? gen = Directory.GetDirectories(Path.GetDirectoryName(_guest.Directory.TrimEnd('/'))!, "tree-*")
            .Select(t => Path.Combine(t, "usr", "gen_init_cpio")).FirstOrDefault(File.Exists);
        if (gen is null) Assert.Fail("no usr/gen_init_cpio in the Linux tree next to " + _guest.Directory);
        string list = Path.Combine(_dir, "initramfs.list");
        File.WriteAllLines(list, ["dir /dev 0755 0 0", "nod /dev/console 0600 0 0 c 5 1", $"file /init {exe} 0755 0 0"]);
        var cpio = HostTool.Run(gen!, [list], _dir, TimeSpan.FromMinutes(1));
        Assert.That(cpio.ExitCode, Is.Zero, cpio.Stderr);
        string path = Path.Combine(_dir, "c-example.cpio");
        File.WriteAllBytes(path, cpio.Stdout);
        return path;
    }

    [Test]
    public void ExampleTestPassesAsInitOnLinux()
    {
        string initrd = Initramfs();
        var serial = new MemoryStream();
        var config = new MachineConfig
        {
            Kernel = File.ReadAllBytes(_guest.BzImage),
            Initrd = File.ReadAllBytes(initrd),
            MemorySize = 1UL << 30,
            CommandLine = "console=ttyS0 liveupdate=on panic=-1",
            SerialOutput = serial,
            NoReboot = true,
        };
        MachineExit exit;
        using (var machine = new PcMachine(config)) exit = machine.Run(6_000_000_000);
        string text = Encoding.ASCII.GetString(serial.ToArray());
        File.WriteAllText(Path.Combine(TestContext.CurrentContext.WorkDirectory, "linux-c-example.log"), text);
        string tail = string.Join('\n', text.Split('\n').TakeLast(40));
        var report = KtapReport.Parse(text);
        Assert.That(report.Tests.Where(t => !t.Ok).Select(t => $"{t.Name}: {t.Reason}"), Is.Empty, tail);
        Assert.That(report.Problems, Is.Empty, tail);
        Assert.That(report.Tests, Has.Count.EqualTo(13), tail);
        Assert.That(text, Does.Contain("c example: devtmpfs mounted on /dev").And.Contain("c example: all passed"));
        // The program ends the run with a restart (init must not exit on Linux); -no-reboot turns it into an exit.
        Assert.That(exit.Kind, Is.EqualTo(ExitKind.Reset), exit.Diagnostic + "\n" + tail);
    }
}
