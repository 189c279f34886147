using KhoEmu.Elf;
using NUnit.Framework;

namespace KhoEmu.Elf.Tests;

public sealed class SymbolTableTests
{
    [Test]
    public void DescribesAddressesInsideSizedSymbolsAndAfterLabels()
    {
        var t = new SymbolTable();
        t.Add(0x1000, 0x40, "alpha");
        t.Add(0x1040, 0x10, "beta");
        t.Add(0x1040, 0, "beta_label");
        t.Add(0x2000, 0, "asm_stub");
        Assert.Multiple(() =>
        {
            Assert.That(t.Describe(0x1000), Is.EqualTo("alpha"));
            Assert.That(t.Describe(0x103F), Is.EqualTo("alpha+0x3f"));
            Assert.That(t.Describe(0x1044), Is.EqualTo("beta+0x4"), "a sized symbol wins over a label at the same address");
            Assert.That(t.Describe(0x2010), Is.EqualTo("asm_stub+0x10"));
            Assert.That(t.Describe(0x0FFF), Is.Null);
            Assert.That(t.Describe(0x1050), Is.EqualTo("beta_label+0x10"));
        });
    }
}
