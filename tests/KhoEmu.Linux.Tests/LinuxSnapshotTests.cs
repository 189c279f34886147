using System.Text;
using System.Text.RegularExpressions;
using KhoEmu.Machine;
using KhoEmu.Machine.Snapshots;
using NUnit.Framework;

namespace KhoEmu.Linux.Tests;

/// <summary>
/// Debian's 6.1 kernel snapshotted in the middle of its boot and restored in a fresh `khoemu` process: the console,
/// the instruction count and guest RAM at a later point equal those of the run that never stopped (docs/snapshots.md).
/// Kept short: 400 M instructions in, compared at 1 G (the boot takes about 2.3 G).
/// </summary>
[TestFixture, Explicit("two 1 G-instruction Debian runs: dotnet test -c Release --filter TestCategory=LinuxFull"), NonParallelizable,
 Category("LinuxFull")]
public sealed class LinuxSnapshotTests
{
    private const ulong At = 400_000_001, End = 1_000_000_000;

    [Test]
    public void BootRestoredInAFreshProcessContinuesBitForBit()
    {
        var files = LinuxBootFiles.Prepare();
        var serial = new MemoryStream();
        var config = new MachineConfig
        {
            Kernel = File.ReadAllBytes(files.BzImage),
            KernelName = files.BzImage,
            Initrd = File.ReadAllBytes(files.Initrd),
            MemorySize = LinuxMachines.MemorySize,
            CommandLine = LinuxMachines.CommandLine(LinuxMachines.RtcBase),
            SerialOutput = serial,
            RtcBase = DateTime.SpecifyKind(LinuxMachines.RtcBase, DateTimeKind.Unspecified),
        };
        string path = Path.Combine(TestContext.CurrentContext.WorkDirectory, "linux-boot.snap");
        ulong ram;
        using (var m = new PcMachine(config))
        {
            Assert.That(m.Run(At).Kind, Is.EqualTo(ExitKind.InstructionLimit));
            m.TakeSnapshot($"instruction {At}", serial.ToArray()).Write(path);
            Assert.That(m.Run(End - At).Kind, Is.EqualTo(ExitKind.InstructionLimit));
            ram = m.RamHash();
        }
        string whole = Encoding.ASCII.GetString(serial.ToArray());
        Assert.That(whole, Does.Contain("Linux version"), "the console is on by then");

        var child = KhoemuProcess.Run("run", "--restore", path, "--no-input", "--stats", "--max-instructions", End.ToString());
        string before = Encoding.ASCII.GetString(SnapshotFile.Read(path).Find(PcMachine.ConsoleSection)!.Data);
        Assert.That(child.Code, Is.EqualTo(MachineExit.CodeInstructionLimit), child.Stderr);
        Assert.That(before + child.Stdout, Is.EqualTo(whole));
        Assert.That(Regex.Match(child.Stderr, @"khoemu: (\d+) instructions").Groups[1].Value, Is.EqualTo(End.ToString()), child.Stderr);
        Assert.That(Regex.Match(child.Stderr, @"guest RAM xxh64 (\w+)").Groups[1].Value, Is.EqualTo(ram.ToString("x16")), child.Stderr);
        File.Delete(path);
    }
}
