using System.Buffers.Binary;
using System.Text;
using KhoEmu.Machine.Boot;
using NUnit.Framework;

namespace KhoEmu.Machine.Tests.Boot;

/// <summary>
/// The Linux 64-bit boot protocol with a bzImage built in the test (<see cref="SyntheticBzImage"/>): the guest
/// reports what it found through boot_params; the test checks it against what the loader was given.
/// </summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class LinuxBootProtocolTests
{
    private static (MachineExit Exit, string Serial, PcMachine Machine) Boot(byte[] kernel, string cmdline, byte[]? initrd, ulong memory = 512UL << 20)
    {
        var serial = new MemoryStream();
        var m = new PcMachine(new MachineConfig
        {
            Kernel = kernel, CommandLine = cmdline, Initrd = initrd, MemorySize = memory, SerialOutput = serial,
        });
        var exit = m.Run(50_000_000);
        return (exit, Encoding.ASCII.GetString(serial.ToArray()), m);
    }

    private static byte[] Ramdisk(int size, int seed)
    {
        var b = new byte[size];
        new Random(seed).NextBytes(b);
        return b;
    }

    [TestCase(512UL << 20, 1 << 20)]
    [TestCase(3UL << 30, 3 << 20)]            // low RAM ends at 2 GiB, the rest above 4 GiB
    [TestCase(64UL << 20, 12345)]             // odd size
    public void KernelFindsCommandLineAndInitrdThroughBootParams(ulong memory, int initrdSize)
    {
        var initrd = Ramdisk(initrdSize, initrdSize);
        const string cmdline = "console=ttyS0 earlyprintk=ttyS0 root=/dev/ram0";
        var (exit, serial, m) = Boot(SyntheticBzImage.Build(), cmdline, initrd, memory);
        using (m)
        {
            ulong addr = ReadU32(m, BootLayout.BootParams + 0x218);
            Assert.That(serial, Is.EqualTo(SyntheticBzImage.ExpectedOutput(cmdline, initrd, addr)), exit.Diagnostic);
            Assert.That(exit.ExitCode, Is.EqualTo((SyntheticBzImage.PassValue << 1) | 1), exit.Diagnostic);

            // Placement as QEMU computes it: page aligned, below low RAM's end less QEMU's ACPI headroom, and clear
            // of the kernel's init_size.
            ulong lowEnd = Math.Min(memory, 2UL << 30);
            Assert.That(addr, Is.EqualTo((lowEnd - 0x30000 - (ulong)initrdSize) & ~4095UL));
            Assert.That(addr, Is.GreaterThanOrEqualTo(SyntheticBzImage.PrefAddress + SyntheticBzImage.InitSize));
        }
    }

    [Test]
    public void WithoutInitrdTheRamdiskFieldsAreZero()
    {
        var (exit, serial, m) = Boot(SyntheticBzImage.Build(), "quiet", null);
        using (m)
        {
            Assert.That(serial, Is.EqualTo(SyntheticBzImage.ExpectedOutput("quiet", null, 0)), exit.Diagnostic);
            Assert.That(exit.ExitCode, Is.EqualTo((SyntheticBzImage.PassValue << 1) | 1));
        }
    }

    [Test]
    public void BootParamsCarryTheSetupHeaderAndTheMemoryMap()
    {
        var image = SyntheticBzImage.Build();
        var (_, _, m) = Boot(image, "x", null, 3UL << 30);
        using (m)
        {
            var zp = new byte[4096];
            m.Memory.Read(BootLayout.BootParams, zp);
            // The header bytes the loader does not own are the image's own.
            Assert.That(zp.AsSpan(0x1F1, 0x210 - 0x1F1).ToArray(), Is.EqualTo(image.AsSpan(0x1F1, 0x210 - 0x1F1).ToArray()));
            Assert.That(zp.AsSpan(0x22C, 0x250 - 0x22C).ToArray(), Is.EqualTo(image.AsSpan(0x22C, 0x250 - 0x22C).ToArray()));
            Assert.That(zp[0x211], Is.EqualTo(0x81), "LOADED_HIGH kept, CAN_USE_HEAP added");
            Assert.That(BinaryPrimitives.ReadUInt16LittleEndian(zp.AsSpan(0x224)), Is.EqualTo(0xFE00), "heap_end_ptr as QEMU sets it");
            Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(zp.AsSpan(0x228)), Is.EqualTo((uint)BootLayout.LinuxCmdline));
            Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(zp.AsSpan(0x070)), Is.EqualTo(m.AcpiRsdpAddress));
            var map = m.Memory.MemoryMap();
            Assert.That(zp[0x1E8], Is.EqualTo(map.Count));
            for (int i = 0; i < map.Count; i++)
            {
                var e = zp.AsSpan(0x2D0 + 20 * i);
                Assert.That((BinaryPrimitives.ReadUInt64LittleEndian(e), BinaryPrimitives.ReadUInt64LittleEndian(e[8..]),
                    BinaryPrimitives.ReadUInt32LittleEndian(e[16..])), Is.EqualTo((map[i].Address, map[i].Length, (uint)map[i].Type)));
            }
            Assert.That(map.Any(e => e.Address == 1UL << 32 && e.Length == 1UL << 30), "the RAM above 4 GiB is in the table");
            // The protected-mode kernel sits at pref_address.
            var loaded = new byte[64];
            m.Memory.Read(SyntheticBzImage.PrefAddress + 0x200, loaded);
            Assert.That(loaded, Is.EqualTo(image.AsSpan((SyntheticBzImage.SetupSects + 1) * 512 + 0x200, 64).ToArray()));
        }
    }

    [Test]
    public void IdentityMapReachesRamAboveFourGiB()
    {
        // The 1 GiB pages above 4 GiB: translate through the loader's tables by hand.
        var (_, _, m) = Boot(SyntheticBzImage.Build(), "", null, 6UL << 30);
        using (m)
        {
            ulong pdpt = m.Memory.ReadPhys(BootLayout.Pml4, 8) & ~0xFFFUL;
            for (ulong gib = 0; gib < 8; gib++)
            {
                ulong e = m.Memory.ReadPhys(pdpt + gib * 8, 8);
                Assert.That(e & 1, Is.EqualTo(1UL), $"GiB {gib} is mapped");
                if (gib >= 4) Assert.That(e & ~0xFFFUL, Is.EqualTo(gib << 30));
            }
            Assert.That(m.Memory.ReadPhys(pdpt + 8 * 8, 8), Is.Zero, "nothing past the end of RAM");
        }
    }

    /// <summary>
    /// A real bzImage when one is given (KHOEMU_LINUX_BZIMAGE=path, e.g. Debian's vmlinuz-6.1.0-57-cloud-amd64; the
    /// test downloads nothing): its decompressor must run and hand over to Linux, which reports the command line and
    /// the initrd at the address QEMU gives it.
    /// </summary>
    [Test, Category("Slow")]
    public void RealBzImageDecompressesAndFindsItsInitrd()
    {
        string? path = Environment.GetEnvironmentVariable("KHOEMU_LINUX_BZIMAGE");
        if (path is null || !File.Exists(path)) Assert.Inconclusive("set KHOEMU_LINUX_BZIMAGE to a bzImage to run this");
        var initrd = Ramdisk(1 << 20, 3);
        const string cmdline = "console=ttyS0 earlyprintk=ttyS0 nokaslr";
        var serial = new MemoryStream();
        using var m = new PcMachine(new MachineConfig
        {
            Kernel = File.ReadAllBytes(path!), CommandLine = cmdline, Initrd = initrd, MemorySize = 1UL << 30, SerialOutput = serial,
        });
        var exit = m.Run(600_000_000);
        string text = Encoding.ASCII.GetString(serial.ToArray());
        Assert.That(text, Does.Contain("Linux version"), exit.Diagnostic);
        Assert.That(text, Does.Contain("Command line: " + cmdline));
        Assert.That(text, Does.Contain("RAMDISK: [mem 0x3fed0000-0x3ffcffff]"), "where QEMU 7.2 q35 -m 1G puts a 1 MiB initrd");
    }

    private static ulong ReadU32(PcMachine m, ulong addr) => m.Memory.ReadPhys(addr, 4);
}
