using KhoEmu.Machine.Acpi;
using NUnit.Framework;

namespace KhoEmu.Machine.Tests.Acpi;

/// <summary>AML encodings against ACPI 6.5 ch. 20 (the byte values are worked out from the grammar, not from the encoder).</summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class AmlTests
{
    // PkgLength counts its own bytes; one byte up to 63, then bits 7:6 give the extra bytes and bits 3:0 the low nibble.
    [TestCase(0, new byte[] { 0x01 })]
    [TestCase(62, new byte[] { 0x3F })]
    [TestCase(63, new byte[] { 0x41, 0x04 })]                   // 65 = 0x041
    [TestCase(4093, new byte[] { 0x4F, 0xFF })]                 // 4095 = 0xFFF, the largest two-byte length
    [TestCase(4094, new byte[] { 0x81, 0x00, 0x01 })]           // 4097 = 0x1001
    [TestCase(0xFFFFF - 3, new byte[] { 0x8F, 0xFF, 0xFF })]
    [TestCase(0xFFFFF - 2, new byte[] { 0xC1, 0x00, 0x00, 0x01 })]  // 0x100001 needs the four-byte form
    public void PkgLengthUsesTheShortestForm(int payload, byte[] expected) => Assert.That(Aml.PkgLength(payload), Is.EqualTo(expected));

    [Test]
    public void NameStringsHaveRootParentDualAndMultiForms()
    {
        Assert.That(Aml.NameString("_HID"), Is.EqualTo("_HID"u8.ToArray()));
        Assert.That(Aml.NameString("RTC"), Is.EqualTo("RTC_"u8.ToArray()));
        Assert.That(Aml.NameString("\\_SB.PCI0"), Is.EqualTo(B([0x5C, 0x2E, .. "_SB_PCI0"u8])));
        Assert.That(Aml.NameString("\\_SB.PCI0.ISA"), Is.EqualTo(B([0x5C, 0x2F, 3, .. "_SB_PCI0ISA_"u8])));
        Assert.That(Aml.NameString("^^FOO"), Is.EqualTo(B([0x5E, 0x5E, .. "FOO_"u8])));
        Assert.That(Aml.NameString("\\"), Is.EqualTo(new byte[] { 0x5C, 0x00 }));
        Assert.Throws<ArgumentException>(() => Aml.NameString("1ABC"));
        Assert.Throws<ArgumentException>(() => Aml.NameString("TOOLONG"));
        Assert.Throws<ArgumentException>(() => Aml.NameString("lower"));
    }

    [Test]
    public void IntegersTakeTheShortestEncodingAndEisaIdsAreCompressed()
    {
        Assert.That(new Aml().Integer(0).Integer(1).Integer(0xFF).Integer(0x100).Integer(0x1_0000).Integer(1UL << 32).ToArray(),
            Is.EqualTo(new byte[] { 0x00, 0x01, 0x0A, 0xFF, 0x0B, 0x00, 0x01, 0x0C, 0x00, 0x00, 0x01, 0x00, 0x0E, 0, 0, 0, 0, 1, 0, 0, 0 }));
        Assert.That(Aml.EncodeEisaId("PNP0A03"), Is.EqualTo(0x030AD041u));  // the value every PC DSDT carries
        Assert.That(Aml.EncodeEisaId("PNP0501"), Is.EqualTo(0x0105D041u));
        Assert.Throws<ArgumentException>(() => Aml.EncodeEisaId("pnp0a03"));
    }

    [Test]
    public void NamedObjectsWrapTheirBodyInAPkgLength()
    {
        var aml = new Aml().Device("COM1", d => d.Name("_UID", 1)).ToArray();
        Assert.That(aml, Is.EqualTo(B([0x5B, 0x82, 11, .. "COM1"u8, 0x08, .. "_UID"u8, 0x01])));
        var method = new Aml().Method("_STA", 0, false, m => m.Return(r => r.Integer(0x0F))).ToArray();
        Assert.That(method, Is.EqualTo(B([0x14, 9, .. "_STA"u8, 0x00, 0xA4, 0x0A, 0x0F])));
        var buffer = new Aml().Buffer([0x79, 0x00]).ToArray();
        Assert.That(buffer, Is.EqualTo(new byte[] { 0x11, 5, 0x0A, 0x02, 0x79, 0x00 }));
    }

    private static byte[] B(byte[] bytes) => bytes;
}
