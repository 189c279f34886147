using NUnit.Framework;

namespace KhoEmu.Machine.Tests;

/// <summary>QEMU command-line options describing this machine are accepted; anything else is refused, with a reason.</summary>
public sealed class QemuOptionsTests
{
    [TestCase("q35")]
    [TestCase("type=q35,accel=tcg")]
    [TestCase("pc-q35-7.2")]
    public void Q35IsAccepted(string spec) => Assert.DoesNotThrow(() => QemuOptions.CheckMachine(spec));

    [TestCase("pc")]
    [TestCase("microvm")]
    public void OtherMachinesAreRefused(string spec) =>
        Assert.That(() => QemuOptions.CheckMachine(spec), Throws.TypeOf<FormatException>().With.Message.Contains("q35"));

    [TestCase("intel-iommu")]
    [TestCase("intel-iommu,caching-mode=off")]
    [TestCase("edu")]
    [TestCase("isa-debug-exit,iobase=0xf4,iosize=0x04")]
    [TestCase("driver=edu")]
    public void BuiltInDevicesAreAccepted(string spec) => Assert.DoesNotThrow(() => QemuOptions.CheckDevice(spec));

    [TestCase("e1000", "not modelled")]
    [TestCase("isa-debug-exit,iobase=0x501,iosize=2", "fixed at iobase=0xf4")]
    [TestCase("isa-debug-exit,iobase=zz", "not a number")]
    [TestCase("isa-debug-exit,colour=red", "unknown isa-debug-exit property")]
    public void OtherDevicesAreRefused(string spec, string why) =>
        Assert.That(() => QemuOptions.CheckDevice(spec), Throws.TypeOf<FormatException>().With.Message.Contains(why));

    [Test]
    public void SerialAndDisplay()
    {
        Assert.DoesNotThrow(() => QemuOptions.CheckSerial("stdio"));
        Assert.That(() => QemuOptions.CheckSerial("file:out.txt"), Throws.TypeOf<FormatException>());
        Assert.DoesNotThrow(() => QemuOptions.CheckDisplay("none"));
        Assert.That(() => QemuOptions.CheckDisplay("gtk"), Throws.TypeOf<FormatException>());
    }

    [TestCase("Denverton", "Denverton")]
    [TestCase("denverton-v1", "Denverton")]
    [TestCase("qemu64", "qemu64")]
    public void CpuModelsAreFoundByQemuName(string spec, string name) =>
        Assert.That(QemuOptions.ParseCpu(spec).Name, Is.EqualTo(name));

    [TestCase("Skylake-Client", "unknown CPU model 'Skylake-Client'")]
    [TestCase("max", "Denverton")]
    [TestCase("qemu64,+avx2", "feature flags are not supported")]
    public void OtherCpuModelsAreRefusedWithTheList(string spec, string why) =>
        Assert.That(() => QemuOptions.ParseCpu(spec), Throws.TypeOf<FormatException>().With.Message.Contains(why));

    [Test]
    public void TheMachineRunsTheConfiguredCpuModel()
    {
        using var defaultMachine = new PcMachine(new MachineConfig());
        Assert.That(defaultMachine.Cpu.Model, Is.SameAs(KhoEmu.Cpu.CpuModels.Default));
        Assert.That(KhoEmu.Cpu.CpuModels.Default.Vendor, Is.EqualTo("GenuineIntel"));
        using var amd = new PcMachine(new MachineConfig { CpuModel = QemuOptions.ParseCpu("qemu64") });
        Assert.That(amd.Cpu.Model.Vendor, Is.EqualTo("AuthenticAMD"));
        Assert.That(amd.Cpu.Model.Signature, Is.EqualTo(0x00060FB1u), "family 15 model 107 stepping 1 as CPUID.1:EAX encodes it");
    }

    [Test]
    public void InitrdFileIsReadOrRefusedInOneLine()
    {
        string path = Path.Combine(Path.GetTempPath(), $"khoemu-initrd-{Environment.ProcessId}.img");
        File.WriteAllBytes(path, [1, 2, 3]);
        try { Assert.That(QemuOptions.ReadFile("-initrd", path), Is.EqualTo(new byte[] { 1, 2, 3 })); }
        finally { File.Delete(path); }
        Assert.That(() => QemuOptions.ReadFile("-initrd", path), Throws.TypeOf<FormatException>()
            .With.Message.StartsWith($"-initrd {path}: could not load:").And.Message.Not.Contains("\n"));
        Assert.That(() => QemuOptions.ReadFile("-initrd", Path.GetTempPath()), Throws.TypeOf<FormatException>());
    }
}
