using KhoEmu.Machine.Acpi;
using NUnit.Framework;

namespace KhoEmu.Machine.Tests.Acpi;

/// <summary>
/// The installed tables checked by ACPICA's iasl (acpica-tools): every table disassembles with no error or warning,
/// and the DSDT's disassembly compiles again to the same AML. Inconclusive without iasl.
/// </summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class IaslTests
{
    private static string WorkDir(string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"khoemu-iasl-{name}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static Dictionary<string, (ulong Address, byte[] Data)> InstalledTables()
    {
        if (!HostTool.Exists("iasl")) Assert.Inconclusive("iasl (acpica-tools) is not installed");
        using var m = new PcMachine(new MachineConfig());
        return AcpiTestSupport.Walk(m, AcpiTestSupport.ScanForRsdp(m));
    }

    /// <summary>iasl prints "Warning"/"Error" lines and a "N Errors, N Warnings" summary; disassembly comments flag bad fields with "****".</summary>
    private static void AssertClean(HostTool.Result r, string what, string? listing = null)
    {
        string all = r.Text + r.Stderr;
        Assert.That(r.ExitCode, Is.Zero, $"{what}: iasl failed\n{all}");
        Assert.That(all, Does.Not.Match("(?i)\\bwarning\\b|\\berror\\b(?!s)|[1-9][0-9]* Errors|[1-9][0-9]* Warnings|[1-9][0-9]* Remarks"), $"{what}\n{all}");
        if (listing is not null) Assert.That(listing, Does.Not.Contain("****"), $"{what}: the disassembler flagged a field\n{listing}");
    }

    [Test]
    public void EveryTableDisassemblesWithoutErrorsOrWarnings()
    {
        var tables = InstalledTables();
        var dir = WorkDir("all");
        try
        {
            foreach (var (sig, (_, data)) in tables)
            {
                string file = Path.Combine(dir, sig.ToLowerInvariant() + ".dat");
                File.WriteAllBytes(file, data);
                var r = HostTool.Run("iasl", ["-d", file], dir, TimeSpan.FromSeconds(60));
                string dsl = Path.ChangeExtension(file, ".dsl");
                Assert.That(File.Exists(dsl), $"{sig}: no disassembly\n{r.Text}{r.Stderr}");
                string listing = File.ReadAllText(dsl);
                AssertClean(r, sig, listing);
                if (sig != "FACS" && sig != "DSDT") Assert.That(listing, Does.Contain("Checksum : ").And.Not.Contain("Incorrect checksum"), sig);
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [Test]
    public void DsdtRoundTripsThroughTheDisassemblerAndCompiler()
    {
        var tables = InstalledTables();
        var dir = WorkDir("dsdt");
        try
        {
            var dsdt = tables["DSDT"].Data;
            string dat = Path.Combine(dir, "dsdt.dat");
            File.WriteAllBytes(dat, dsdt);
            AssertClean(HostTool.Run("iasl", ["-d", dat], dir, TimeSpan.FromSeconds(60)), "disassembly");
            string dsl = File.ReadAllText(Path.Combine(dir, "dsdt.dsl"));
            Assert.That(dsl, Does.Contain("Device (PCI0)").And.Contain("EisaId (\"PNP0A08\")").And.Contain("_PRT")
                .And.Contain("_S5, Package (0x04)").And.Contain("EisaId (\"PNP0103\")").And.Contain("EisaId (\"PNP0B00\")")
                .And.Contain("EisaId (\"PNP0501\")").And.Contain("EisaId (\"PNP0303\")"));
            // Recompile without iasl's optimizations (it would shorten \_S5 to _S5); the AML body after the 36-byte header
            // must be byte-identical.
            File.Copy(Path.Combine(dir, "dsdt.dsl"), Path.Combine(dir, "again.dsl"));
            AssertClean(HostTool.Run("iasl", ["-oa", "-p", Path.Combine(dir, "again"), Path.Combine(dir, "again.dsl")], dir, TimeSpan.FromSeconds(60)), "compile");
            var again = File.ReadAllBytes(Path.Combine(dir, "again.aml"));
            Assert.That(again.AsSpan(AcpiTableWriter.HeaderLength).ToArray(), Is.EqualTo(dsdt.AsSpan(AcpiTableWriter.HeaderLength).ToArray()),
                "iasl compiles the disassembly to the same AML");
        }
        finally { Directory.Delete(dir, true); }
    }
}
