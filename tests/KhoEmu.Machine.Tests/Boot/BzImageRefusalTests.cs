using System.Buffers.Binary;
using KhoEmu.Machine.Boot;
using NUnit.Framework;

namespace KhoEmu.Machine.Tests.Boot;

/// <summary>
/// Malformed bzImages are refused with one line saying what is wrong, never a .NET exception; random mutations of a
/// valid header end either in a boot or in a <see cref="BootException"/>.
/// </summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class BzImageRefusalTests
{
    private static string Refusal(byte[] image, string cmdline = "", byte[]? initrd = null, ulong memory = 512UL << 20)
    {
        var e = Assert.Throws<BootException>(() =>
            new PcMachine(new MachineConfig { Kernel = image, CommandLine = cmdline, Initrd = initrd, MemorySize = memory }).Dispose());
        Assert.That(e!.Message, Does.Not.Contain("\n"), "one line");
        return e.Message;
    }

    private static byte[] With(Action<byte[]> change)
    {
        var image = SyntheticBzImage.Build();
        change(image);
        return image;
    }

    [Test]
    public void ShortFile() =>
        Assert.That(Refusal(SyntheticBzImage.Build()[..0x240]), Does.Contain("truncated"));

    [Test]
    public void BadBootFlag() =>
        Assert.That(Refusal(With(b => b[0x1FE] = 0x00)), Does.Contain("boot_flag is 0xaa00"));

    [Test]
    public void BadHdrSMagicIsNotTakenForABzImage() =>
        // Without "HdrS" the image is no Linux kernel at all (QEMU's test), so it is refused as unrecognised.
        Assert.That(Refusal(With(b => b[0x205] = (byte)'X')), Does.Contain("neither a multiboot header"));

    [Test]
    public void ProtocolTooOld() =>
        Assert.That(Refusal(With(b => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(0x206), 0x0205))), Does.Contain("2.05 is too old"));

    [Test]
    public void ProtocolWithoutXloadflags() =>
        Assert.That(Refusal(With(b => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(0x206), 0x020B))), Does.Contain("no 64-bit entry point"));

    [Test]
    public void NoKernel64Flag() =>
        Assert.That(Refusal(With(b => b[0x236] = 0x02)), Does.Contain("lacks XLF_KERNEL_64"));

    [Test]
    public void SetupSectsBeyondTheFile() =>
        Assert.That(Refusal(With(b => b[0x1F1] = 200)), Does.Contain("setup_sects (200) reaches beyond the file"));

    [Test]
    public void SyssizeLargerThanTheFile() =>
        Assert.That(Refusal(With(b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(0x1F4), 0x10_0000))), Does.Contain("syssize"));

    [Test]
    public void SyssizeZero() =>
        Assert.That(Refusal(With(b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(0x1F4), 0))), Does.Contain("syssize"));

    [Test]
    public void InitSizeBeyondRam() =>
        Assert.That(Refusal(With(b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(0x260), 0x4000_0000))), Does.Contain("init_size"));

    [Test]
    public void PrefAddressBeyondRam() =>
        Assert.That(Refusal(With(b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(0x258), 0xFFFF_FFFF_FF00_0000))), Does.Contain("beyond the guest's RAM"));

    [Test]
    public void PrefAddressThatWrapsOrHitsTheBootStructures()
    {
        Assert.That(Refusal(With(b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(0x258), ulong.MaxValue - 10))), Does.Contain("pref_address"));
        Assert.That(Refusal(With(b =>
        {
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(0x258), 0x1000);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(0x230), 0x1000);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(0x260), 0x2000);
        })), Does.Contain("overlaps the boot structures"));
    }

    [Test]
    public void KernelAlignmentNotAPowerOfTwo() =>
        Assert.That(Refusal(With(b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(0x230), 0x30_0000))), Does.Contain("kernel_alignment"));

    [Test]
    public void CommandLineLongerThanCmdlineSize()
    {
        var image = With(b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(0x238), 16));
        Assert.That(Refusal(image, new string('x', 17)), Does.Contain("longer than the kernel's cmdline_size (16)"));
        Assert.DoesNotThrow(() => new PcMachine(new MachineConfig { Kernel = image, CommandLine = new string('x', 16) }).Dispose());
    }

    [Test]
    public void InitrdTooLargeForLowRam() =>
        Assert.That(Refusal(SyntheticBzImage.Build(), "", new byte[60 << 20], 64UL << 20), Does.Contain("initrd of 62914560 bytes does not fit"));

    [Test]
    public void InitrdAboveInitrdAddrMaxIsNotUsed()
    {
        // initrd_addr_max 32 MiB with the kernel at 16..18 MiB: the initrd goes just below 32 MiB, and 16 MiB fits
        // neither above the kernel (14 MiB) nor below it (15 MiB above the boot structures).
        var image = With(b =>
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(0x22C), (32 << 20) - 1);
            b[0x236] = 0x01;                               // not CAN_BE_LOADED_ABOVE_4G, so initrd_addr_max holds
        });
        using var m = new PcMachine(new MachineConfig { Kernel = image, Initrd = new byte[1 << 20] });
        ulong addr = m.Memory.ReadPhys(BootLayout.BootParams + 0x218, 4);
        Assert.That(addr, Is.EqualTo((31UL << 20) - 4096), "(initrd_addr_max - size) & ~4095, as QEMU");
        Assert.That(Refusal(image, "", new byte[16 << 20]), Does.Contain("does not fit in RAM below 0x1ffffff"));
    }

    [Test, Category("Fuzz")]
    public void RandomHeaderMutationsOnlyEverRaiseBootException()
    {
        var rng = new Random(20261201);
        var valid = SyntheticBzImage.Build();
        int refused = 0, booted = 0;
        for (int i = 0; i < 400; i++)
        {
            var image = (byte[])valid.Clone();
            int edits = rng.Next(1, 6);
            for (int k = 0; k < edits; k++)
            {
                int off = rng.Next(0x1F1, 0x270);
                image[off] = rng.Next(3) == 0 ? (byte)0xFF : (byte)rng.Next(256);
            }
            if (rng.Next(8) == 0) Array.Resize(ref image, rng.Next(0, image.Length));
            byte[]? initrd = rng.Next(2) == 0 ? new byte[rng.Next(1, 1 << 20)] : null;
            try
            {
                using var m = new PcMachine(new MachineConfig { Kernel = image, Initrd = initrd, CommandLine = "console=ttyS0", MemorySize = 64UL << 20 });
                m.Run(10_000);
                booted++;
            }
            catch (BootException) { refused++; }
        }
        TestContext.Out.WriteLine($"{refused} refused, {booted} loaded");
        Assert.That(refused, Is.GreaterThan(0));
        Assert.That(booted, Is.GreaterThan(0));
    }
}
