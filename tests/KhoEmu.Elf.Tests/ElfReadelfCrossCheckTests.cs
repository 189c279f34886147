using System.Diagnostics;
using System.Globalization;
using NUnit.Framework;

namespace KhoEmu.Elf.Tests;

/// <summary>Every program header and symbol ELFSharp reads agrees with binutils' readelf on gcc-built files.</summary>
[TestFixture]
public sealed class ElfReadelfCrossCheckTests
{
    private static string Run(string file, string args)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        string o = p.StandardOutput.ReadToEnd();
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.That(p.ExitCode, Is.Zero, $"{file} {args}: {err}");
        return o;
    }

    private static string BuildProgram(string flags)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"khoemu-elf-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        string src = Path.Combine(dir, "t.c"), exe = Path.Combine(dir, "t");
        File.WriteAllText(src, "static int counter = 3; int table[40]; int bump(int x) { return counter += x; }\n"
            + "int main(void) { return bump(table[1]); }\n");
        Run("gcc", $"{flags} -o {exe} {src}");
        return exe;
    }

    [TestCase("-O1 -static")]
    [TestCase("-O2 -no-pie -nostartfiles -Wl,-e,main")]
    public void SymbolsAgreeWithReadelf(string flags)
    {
        string exe = BuildProgram(flags);
        var elf = ElfFile.Parse(File.ReadAllBytes(exe));
        Assert.That(elf.Is64 && elf.Machine == ElfFile.MachineX86_64, Is.True);
        // readelf -sW: "Num: Value Size Type Bind Vis Ndx Name" for .symtab.
        var expected = Run("readelf", $"-sW --syms {exe}").Split('\n')
            .SkipWhile(l => !l.Contains("'.symtab'")).Skip(2).TakeWhile(l => l.Length > 0)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        var symbols = elf.Symbols();
        Assert.That(symbols, Has.Count.EqualTo(expected.Count));
        string[] types = ["NOTYPE", "OBJECT", "FUNC", "SECTION", "FILE", "COMMON", "TLS"], binds = ["LOCAL", "GLOBAL", "WEAK"];
        for (int i = 0; i < symbols.Count; i++)
        {
            var (s, e) = (symbols[i], expected[i]);
            Assert.That(s.Value, Is.EqualTo(ulong.Parse(e[1], NumberStyles.HexNumber)), $"symbol {i} value");
            Assert.That(s.Size, Is.EqualTo(e[2].StartsWith("0x") ? Convert.ToUInt64(e[2], 16) : ulong.Parse(e[2])), $"symbol {i} size");
            if (s.Type < types.Length) Assert.That(types[s.Type], Is.EqualTo(e[3]), $"symbol {i} type");
            if (s.Binding < binds.Length) Assert.That(binds[s.Binding], Is.EqualTo(e[4]), $"symbol {i} binding");
            Assert.That(s.Name, Is.EqualTo(e.Length > 7 ? e[7] : ""), $"symbol {i} name");
        }
        Assert.That(symbols.Select(s => s.Name), Does.Contain("bump").And.Contain("counter").And.Contain("table"));
    }

    [Test]
    public void ProgramHeadersAgreeWithReadelf()
    {
        string exe = BuildProgram("-O1 -static");
        var elf = ElfFile.Parse(File.ReadAllBytes(exe));
        // readelf -lW rows: Type Offset VirtAddr PhysAddr FileSiz MemSiz Flg... Align
        var rows = Run("readelf", $"-lW {exe}").Split('\n').Select(l => l.Trim())
            .Where(l => l.Length > 0 && l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [_, var off, ..] && off.StartsWith("0x"))
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.That(elf.Segments, Has.Count.EqualTo(rows.Count));
        for (int i = 0; i < rows.Count; i++)
        {
            var (s, r) = (elf.Segments[i], rows[i]);
            Assert.That(s.Offset, Is.EqualTo(Convert.ToUInt64(r[1], 16)), $"segment {i} offset");
            Assert.That(s.VirtualAddress, Is.EqualTo(Convert.ToUInt64(r[2], 16)), $"segment {i} vaddr");
            Assert.That(s.PhysicalAddress, Is.EqualTo(Convert.ToUInt64(r[3], 16)), $"segment {i} paddr");
            Assert.That(s.FileSize, Is.EqualTo(Convert.ToUInt64(r[4], 16)), $"segment {i} filesz");
            Assert.That(s.MemorySize, Is.EqualTo(Convert.ToUInt64(r[5], 16)), $"segment {i} memsz");
            Assert.That(s.Align, Is.EqualTo(Convert.ToUInt64(r[^1], 16)), $"segment {i} align");
            if (r[0] == "LOAD") Assert.That(s.Type, Is.EqualTo(ElfSegment.Load));
            if (r[0] == "NOTE") Assert.That(s.Type, Is.EqualTo(ElfSegment.Note));
        }
        Assert.That(elf.Notes().Select(n => n.Name), Does.Contain("GNU"));
    }
}
