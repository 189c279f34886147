using System.Diagnostics;
using System.Text;
using KhoEmu.Elf;
using KhoEmu.Machine;
using KhoEmu.Machine.Handover;
using NUnit.Framework;

namespace KhoEmu.Linux.Tests;

/// <summary>
/// The KHO oracle watching Linux 7.3.4's own kexec selftests (tests/linux/kho/prepare.sh builds them): upstream's
/// `kho` and `luo_stress_files` pass with 0 violations and the preserved totals the handover says; with a byte of a
/// preserved page flipped at the jump the oracle names the page and its owner and the selftest fails. Each boot runs
/// 30-120 s of a core, so the fixture runs only when selected: dotnet test --filter TestCategory=LinuxKho.
/// </summary>
[TestFixture, Explicit("boots Linux 7.3.4 six times; run with --filter TestCategory=LinuxKho"), NonParallelizable, Category("LinuxKho")]
public sealed class LinuxHandoverOracleTests
{
    private const ulong InstructionLimit = 6_000_000_000;
    private string _dir = "";
    private SymbolTable _symbols = null!;

    [OneTimeSetUp]
    public void Prepare()
    {
        string script = Path.Combine(RepoPaths.Root(), "tests", "linux", "kho", "prepare.sh");
        var r = HostTool.Run("bash", [script], Path.GetDirectoryName(script)!, TimeSpan.FromMinutes(40));
        _dir = r.Text.Trim().Split('\n')[^1].Trim();
        if (r.ExitCode != 0 || !File.Exists(Path.Combine(_dir, "complete")))
            Assert.Fail($"tests/linux/kho/prepare.sh failed (exit {r.ExitCode}): {r.Stderr.Trim().Split('\n').LastOrDefault()}");
        _symbols = new SymbolTable();
        _symbols.Add(ElfFile.Parse(File.ReadAllBytes(Path.Combine(_dir, "vmlinux"))));
    }

    private sealed record Boot(string Console, MachineExit Exit, KhoOracle Oracle, ulong Instructions, TimeSpan Wall, TimeSpan Cpu);

    /// <summary>Boots one selftest image on the q35 board with -no-reboot, as tests/linux/kho/run-qemu.sh does.</summary>
    private Boot Run(string image, string append, bool oracle, KhoInjection? inject = null)
    {
        string log = Path.Combine(TestContext.CurrentContext.WorkDirectory, $"linuxkho-{image}-{(oracle ? "on" : "off")}{(inject is null ? "" : "-inject")}.log");
        using var serial = new FileStream(log, FileMode.Create, FileAccess.Write, FileShare.Read, 1);
        var config = new MachineConfig
        {
            Kernel = File.ReadAllBytes(Path.Combine(_dir, "bzImage")),
            Initrd = File.ReadAllBytes(Path.Combine(_dir, image + ".cpio")),
            MemorySize = 1UL << 30,
            CommandLine = $"console=ttyS0 {append} panic=-1",
            SerialOutput = serial,
            NoReboot = true,
        };
        using var machine = new PcMachine(config);
        machine.KhoOracle.LinuxDetection = oracle;
        machine.KhoOracle.Symbols = _symbols;
        machine.KhoOracle.Inject = inject;
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        var exit = machine.Run(InstructionLimit);
        sw.Stop();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
        serial.Flush();
        string text = File.ReadAllText(log, Encoding.ASCII);
        TestContext.Progress.WriteLine($"{image} oracle {(oracle ? "on" : "off")}{(inject is null ? "" : " +inject")}: {exit.Kind}, "
            + $"{machine.Cpu.InstructionCount:N0} instructions, {sw.Elapsed.TotalSeconds:F1} s wall, {cpu.TotalSeconds:F1} s CPU (console {log})");
        return new Boot(text, exit, machine.KhoOracle, machine.Cpu.InstructionCount, sw.Elapsed, cpu);
    }

    private static void Figures(string image, Boot on, Boot off)
    {
        var j = on.Oracle.Jumps.Single();
        var h = j.Handover;
        TestContext.Progress.WriteLine($"{image}: {h.Blocks.Count} preserved blocks = {h.PreservedPages} pages ({h.PreservedBytes / 1024} KiB), "
            + $"{h.Sessions.Sum(s => s.Files.Count)} LUO files; oracle read+hash {j.OracleWall.TotalMilliseconds:F0} ms");
        foreach (var line in KhoReportText.Blackout(j)) TestContext.Progress.WriteLine($"{image}: {line}");
        TestContext.Progress.WriteLine($"{image}: oracle cost: wall {on.Wall.TotalSeconds:F1} s on / {off.Wall.TotalSeconds:F1} s off "
            + $"({on.Wall / off.Wall:F2}x), CPU {on.Cpu.TotalSeconds:F1} s / {off.Cpu.TotalSeconds:F1} s ({on.Cpu / off.Cpu:F2}x)");
    }

    private static void AssertClean(Boot on, Boot off, string marker)
    {
        Assert.That(on.Console, Does.Contain(marker), "the selftest's own marker (oracle on)");
        Assert.That(off.Console, Does.Contain(marker), "the selftest's own marker (oracle off)");
        Assert.That(on.Instructions, Is.EqualTo(off.Instructions), "the oracle must not change the guest's run");
        var o = on.Oracle;
        Assert.That(o.Violations, Is.Empty);
        Assert.That(o.HandoverProblem, Is.Null);
        Assert.That(o.Handovers, Is.EqualTo(1));
        var h = o.Jumps.Single().Handover;
        Assert.That(h.Format, Is.EqualTo("kho-v4"));
        Assert.That(o.PreservedBlocks, Is.EqualTo(h.Blocks.Count).And.GreaterThan(0));
        Assert.That(o.PreservedBytes, Is.EqualTo(h.PreservedBytes));
        Assert.That(h.Scratch, Is.Not.Empty);
        Assert.That(o.Jumps.Single().MapReadInstruction, Is.GreaterThan(o.Jumps.Single().JumpInstruction), "the new kernel read the map");
        Assert.That(off.Oracle.Handovers, Is.Zero);
    }

    [Test]
    public void KhoSelftestIsCleanUnderTheOracle()
    {
        var on = Run("kho", "kho=on", oracle: true);
        var off = Run("kho", "kho=on", oracle: false);
        AssertClean(on, off, "KHO restore succeeded");
        var h = on.Oracle.Jumps.Single().Handover;
        Assert.That(h.Subtrees.Select(s => s.Name), Does.Contain("kho_test"));
        Assert.That(h.Blocks.Count(b => h.OwnerOf(b.Phys >> 12)?.StartsWith("kho_test folio", StringComparison.Ordinal) == true), Is.GreaterThan(0),
            "the kho_test sub-tree's folios are found through its vmalloc'ed folio list");
        Figures("kho", on, off);
    }

    [Test]
    public void LuoStressFilesIsCleanUnderTheOracle()
    {
        var on = Run("luo_stress_files", "liveupdate=on", oracle: true);
        var off = Run("luo_stress_files", "liveupdate=on", oracle: false);
        AssertClean(on, off, "TEST PASSED");
        var h = on.Oracle.Jumps.Single().Handover;
        Assert.That(h.LuoCompatible, Is.EqualTo("luo-v5"));
        var files = h.Sessions.Single(s => s.Name == "many_files_session").Files;
        Assert.That(files.Select(f => f.Token), Is.EquivalentTo(Enumerable.Range(0, 500).Select(i => (ulong)i)));
        Assert.That(files.All(f => f.Compatible == "memfd-v2" && f.DataPages.Count == 1), Is.True);
        Assert.That(on.Oracle.Jumps.Single().BlackoutToInit, Is.GreaterThan(on.Oracle.Jumps.Single().BlackoutToJump ?? ulong.MaxValue));
        Figures("luo_stress_files", on, off);
    }

    [Test]
    public void FlippedByteInTheKhoSelftestIsNamedAndTheTestFails()
    {
        var b = Run("kho", "kho=on", oracle: true, KhoInjection.Parse("flip=auto"));
        var j = b.Oracle.Jumps.Single();
        Assert.That(j.InjectedOwner, Does.StartWith("kho_test folio"));
        Assert.That(b.Oracle.Violations.Single(), Does.Contain($"preserved page 0x{j.InjectedAt & ~0xFFFUL:x} ({j.InjectedOwner}) changed")
            .And.Contain("--kho-inject"));
        Assert.That(b.Console, Does.Contain("KHO restore failed").And.Not.Contain("KHO restore succeeded"));
    }

    [Test]
    public void FlippedByteInAMemfdIsNamedAndTheTestFails()
    {
        var b = Run("luo_stress_files", "liveupdate=on", oracle: true, KhoInjection.Parse("flip=auto"));
        var j = b.Oracle.Jumps.Single();
        Assert.That(j.InjectedOwner, Does.Match("^memfd token \\d+ of session 'many_files_session', file page 0$"));
        Assert.That(b.Oracle.Violations.Single(), Does.Contain(j.InjectedOwner).And.Contain("--kho-inject"));
        Assert.That(b.Console, Does.Not.Contain("TEST PASSED"));
    }
}
