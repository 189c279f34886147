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
    [TestCase("intel-iommu,intremap=on")]
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

    [TestCase("q35,accel=kvm", "accel=kvm is not implemented")]
    [TestCase("q35,kernel-irqchip=split", "kernel-irqchip=split is not implemented")]
    public void MachinePropertiesNotModelledAreRefused(string spec, string why) =>
        Assert.That(() => QemuOptions.CheckMachine(spec), Throws.TypeOf<FormatException>().With.Message.Contains(why));

    [TestCase("edu,foo=1", "edu property foo=1 is not implemented")]
    [TestCase("edu,dma_mask=32", "edu property dma_mask=32")]
    [TestCase("intel-iommu,aw-bits=39", "intel-iommu property aw-bits=39")]
    [TestCase("intel-iommu,caching-mode=on", "caching-mode=on")]
    public void DevicePropertiesNotModelledAreRefused(string spec, string why) =>
        Assert.That(() => QemuOptions.CheckDevice(spec), Throws.TypeOf<FormatException>().With.Message.Contains(why));

    [TestCase("/dev/zero", "not a regular file")]
    [TestCase("/tmp", "is a directory")]
    [TestCase("", "empty file name")]
    [TestCase("/nonexistent/khoemu-file", "could not load")]
    public void UnloadableFilesAreRefusedWithAReason(string path, string why) =>
        Assert.That(() => QemuOptions.ReadFile("-initrd", path), Throws.TypeOf<FormatException>().With.Message.Contains(why));

    [Test]
    public void RegularFilesLoadWhole()
    {
        string path = Path.Combine(Path.GetTempPath(), $"khoemu-readfile-{Environment.ProcessId}");
        try
        {
            File.WriteAllBytes(path, [1, 2, 3]);
            Assert.That(QemuOptions.ReadFile("-initrd", path), Is.EqualTo(new byte[] { 1, 2, 3 }));
            File.WriteAllBytes(path, []);
            Assert.That(QemuOptions.ReadFile("-initrd", path), Is.Empty, "an empty regular file is not a device");
        }
        finally { File.Delete(path); }
    }

    [Test]
    public void DemoGuestNeedsItsRam() =>
        Assert.That(() => new PcMachine(new MachineConfig { MemorySize = 2UL << 20 }),
            Throws.TypeOf<KhoEmu.Machine.Boot.BootException>().With.Message.Contains("at least 4 MiB"));

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
    [TestCase("max", "max")]
    public void CpuModelsAreFoundByQemuName(string spec, string name) =>
        Assert.That(QemuOptions.ParseCpu(spec).Name, Is.EqualTo(name));

    [TestCase("Skylake-Client", "unknown CPU model 'Skylake-Client'")]
    [TestCase("Skylake-Server", "max")]
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
