using System.Text;
using NUnit.Framework;

namespace KhoEmu.Machine.Tests;

/// <summary>
/// Boots a kernel built by gcc and GNU as (ForeignKernel/: PVH ELF64 and multiboot flat binary; long-mode entry,
/// paging with 4 KiB pages and invlpg, exceptions through the IDT, NX, SSE2, string instructions, PIT interrupts)
/// and requires exactly the serial output and exit code QEMU gives. The expected files were recorded from
/// qemu-system-x86_64; when qemu is installed the QEMU side is re-run too.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class ForeignKernelTests
{
    private const string CommandLine = "hello world";
    private const int ExpectedExitCode = (0x21 << 1) | 1;
    private string _sources = "";
    private string _build = "";

    [OneTimeSetUp]
    public void BuildKernel()
    {
        _sources = Path.Combine(TestContext.CurrentContext.TestDirectory, "ForeignKernel");
        foreach (var tool in new[] { "gcc", "ld", "objcopy" })
            if (!HostTool.Exists(tool)) Assert.Inconclusive($"{tool} is not installed (.ci/run installs it)");
        _build = Path.Combine(Path.GetTempPath(), $"khoemu-foreign-{Environment.ProcessId}");
        var r = HostTool.Run("bash", [Path.Combine(_sources, "build.sh"), _build], _sources, TimeSpan.FromMinutes(2));
        Assert.That(r.ExitCode, Is.Zero, r.Stderr);
    }

    [OneTimeTearDown]
    public void Clean()
    {
        if (_build.Length > 0 && Directory.Exists(_build)) Directory.Delete(_build, recursive: true);
    }

    [TestCase("kernel-pvh.elf", "expected-pvh.txt")]
    [TestCase("kernel-mb.bin", "expected-multiboot.txt")]
    public void PrintsWhatQemuPrints(string image, string expectedFile)
    {
        var serial = new MemoryStream();
        var config = new MachineConfig
        {
            Kernel = File.ReadAllBytes(Path.Combine(_build, image)),
            KernelName = "./" + image,
            CommandLine = CommandLine,
            SerialOutput = serial,
        };
        using var m = new PcMachine(config);
        var exit = m.Run(50_000_000);
        string expected = File.ReadAllText(Path.Combine(_sources, expectedFile));
        Assert.That(Encoding.ASCII.GetString(serial.ToArray()), Is.EqualTo(expected), exit.Diagnostic);
        Assert.That(exit.ExitCode, Is.EqualTo(ExpectedExitCode), exit.Diagnostic);
    }

    /// <summary>
    /// With -initrd the kernel finds the module (PVH module list / multiboot module) and prints its address (PVH),
    /// size, FNV-1a and string; KhoEmu must print the same lines QEMU prints (QEMU is re-run when installed).
    /// </summary>
    [TestCase("kernel-pvh.elf", "module: paddr 0x{0:x16} size {1} fnv1a 0x{2:x16} cmdline_paddr 0x0000000000000000\n")]
    [TestCase("kernel-mb.bin", "module: size {1} page aligned yes fnv1a 0x{2:x16} string \"./initrd.bin\"\n")]
    public void InitrdArrivesAsTheBootModule(string image, string expectedLine)
    {
        var initrd = new byte[300_001];
        new Random(7).NextBytes(initrd);
        File.WriteAllBytes(Path.Combine(_build, "initrd.bin"), initrd);
        const ulong memory = 512UL << 20;
        var serial = new MemoryStream();
        using var m = new PcMachine(new MachineConfig
        {
            Kernel = File.ReadAllBytes(Path.Combine(_build, image)), KernelName = "./" + image, CommandLine = CommandLine,
            Initrd = initrd, InitrdName = "./initrd.bin", MemorySize = memory, SerialOutput = serial,
        });
        var exit = m.Run(50_000_000);
        string text = Encoding.ASCII.GetString(serial.ToArray());
        // QEMU's placement: (low RAM end - acpi_data_size 0x28000 - 1 - size) & ~4095.
        ulong addr = (memory - 0x28000 - 1 - (ulong)initrd.Length) & ~4095UL;
        string line = string.Format(System.Globalization.CultureInfo.InvariantCulture, expectedLine.Replace("\n", "\r\n"), addr, initrd.Length,
            (ulong)Boot.SyntheticBzImage.Fnv1a(initrd));
        Assert.That(text, Does.Contain(line), exit.Diagnostic);
        Assert.That(exit.ExitCode, Is.EqualTo(ExpectedExitCode), exit.Diagnostic);
        if (!HostTool.Exists("qemu-system-x86_64")) return;
        var r = HostTool.Run("qemu-system-x86_64",
            ["-machine", "q35", "-display", "none", "-serial", "stdio", "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-m", "512M",
             "-kernel", "./" + image, "-append", CommandLine, "-initrd", "./initrd.bin"], _build, TimeSpan.FromMinutes(2));
        Assert.That(text, Is.EqualTo(Encoding.ASCII.GetString(r.Stdout)), r.Stderr);
    }

    [TestCase("kernel-pvh.elf", "expected-pvh.txt")]
    [TestCase("kernel-mb.bin", "expected-multiboot.txt")]
    public void QemuStillPrintsTheRecordedOutput(string image, string expectedFile)
    {
        if (!HostTool.Exists("qemu-system-x86_64")) Assert.Inconclusive("qemu-system-x86_64 is not installed");
        var r = HostTool.Run("qemu-system-x86_64",
            ["-display", "none", "-serial", "stdio", "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
             "-kernel", "./" + image, "-append", CommandLine], _build, TimeSpan.FromMinutes(2));
        string expected = File.ReadAllText(Path.Combine(_sources, expectedFile));
        Assert.That(Encoding.ASCII.GetString(r.Stdout), Is.EqualTo(expected), r.Stderr);
        Assert.That(r.ExitCode, Is.EqualTo(ExpectedExitCode), r.Stderr);
    }

    [Test]
    public void KernelSymbolsNameItsFunctions()
    {
        var elf = KhoEmu.Elf.ElfFile.Parse(File.ReadAllBytes(Path.Combine(_build, "kernel-pvh.elf")));
        var table = new KhoEmu.Elf.SymbolTable();
        table.Add(elf);
        ulong kmain = elf.Symbols().Single(s => s.Name == "kmain").Value;
        Assert.That(table.Describe(kmain + 5), Is.EqualTo("kmain+0x5"));
        Assert.That(table.Describe(elf.Symbols().Single(s => s.Name == "try_landing").Value), Is.EqualTo("try_landing"));
    }

    [Test]
    public void IntegerLoopGivesTheSameResultAsQemu()
    {
        // The loop used for the QEMU speed ratio (bench/qemu-ratio.sh); short here.
        var serial = new MemoryStream();
        using var m = new PcMachine(new MachineConfig
        {
            Kernel = File.ReadAllBytes(Path.Combine(_build, "kernel-pvh.elf")),
            CommandLine = "loop=1000000",
            SerialOutput = serial,
        });
        var exit = m.Run(100_000_000);
        Assert.That(exit.ExitCode, Is.EqualTo(ExpectedExitCode), exit.Diagnostic);
        string text = Encoding.ASCII.GetString(serial.ToArray());
        if (HostTool.Exists("qemu-system-x86_64"))
        {
            var r = HostTool.Run("qemu-system-x86_64",
                ["-display", "none", "-serial", "stdio", "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                 "-kernel", "kernel-pvh.elf", "-append", "loop=1000000"], _build, TimeSpan.FromMinutes(2));
            Assert.That(text, Is.EqualTo(Encoding.ASCII.GetString(r.Stdout)));
        }
        Assert.That(text, Does.Match(@"loop result = 0x[0-9a-f]{16}"));
    }
}
