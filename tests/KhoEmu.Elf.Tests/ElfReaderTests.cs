using System.Diagnostics;
using KhoEmu.Elf;
using NUnit.Framework;

namespace KhoEmu.Elf.Tests;

[TestFixture]
public sealed class ElfReaderTests
{
    private static string Readelf(string args, string path)
    {
        var psi = new ProcessStartInfo("readelf", $"{args} {path}") { RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        string o = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return o;
    }

    [Test]
    public void WrittenPvhNoteIsReadBackAndAgreesWithReadelf()
    {
        var w = new ElfWriter(ElfWriter.FileKind.Executable) { Entry = 0x100000 };
        w.AddNote("Xen", 18, BitConverter.GetBytes(0x100000UL));
        w.AddSegment(0x100000, 0x100000, [0xF4], 0x2000, 5);
        var bytes = w.Build();
        var elf = ElfFile.Parse(bytes);
        Assert.That(elf.Notes().Single().Name, Is.EqualTo("Xen"));
        Assert.That(elf.Notes().Single().Type, Is.EqualTo(18));
        var load = elf.Segments.Single(s => s.Type == ElfSegment.Load);
        Assert.That(load.MemorySize, Is.EqualTo(0x2000));

        string path = Path.Combine(TestContext.CurrentContext.WorkDirectory, $"pvh-{Guid.NewGuid():N}.elf");
        File.WriteAllBytes(path, bytes);
        string notes = Readelf("-n", path), ph = Readelf("-lW", path);
        Assert.That(notes, Does.Contain("Xen"));
        Assert.That(ph, Does.Contain("LOAD").And.Contain("0x002000"));
        Assert.That(ph, Does.Contain($"Entry point 0x{elf.Entry:x}"));
    }

    [Test]
    public void SymbolsOfTheTestHostBinaryMatchReadelf()
    {
        string path = "/bin/true";
        if (!File.Exists(path)) Assert.Ignore("no /bin/true");
        var elf = ElfFile.Parse(File.ReadAllBytes(path));
        var expected = Readelf("-hW", path);
        Assert.That(expected, Does.Contain($"Entry point address:               0x{elf.Entry:x}"));
        Assert.That(elf.Sections.Select(s => s.Name), Does.Contain(".text"));
        foreach (var s in elf.Sections.Where(s => s.Name.Length > 0))
            Assert.That(Readelf("-SW", path), Does.Contain(s.Name));
    }

    [TestCase(0)]
    [TestCase(17)]
    [TestCase(63)]
    public void TruncatedHeadersRaiseFormatErrors(int length)
    {
        var w = new ElfWriter(ElfWriter.FileKind.Executable);
        w.AddNote("Xen", 18, new byte[8]);
        var bytes = w.Build()[..Math.Max(length, 4)];
        Assert.Throws<ElfFormatException>(() => ElfFile.Parse(bytes));
    }
}
