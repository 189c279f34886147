using System.Buffers.Binary;
using KhoEmu.Elf;
using KhoEmu.Machine.Boot;
using NUnit.Framework;

namespace KhoEmu.Machine.Tests.Boot;

/// <summary>ELF kernels QEMU refuses, or whose sizes would overflow the loader's arithmetic, are refused with a reason.</summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class ElfRefusalTests
{
    private static byte[] Pvh(ulong memSize = 0x2000)
    {
        var w = new ElfWriter(ElfWriter.FileKind.Executable) { Entry = 0x100000 };
        w.AddNote("Xen", DirectBoot.PvhNoteType, BitConverter.GetBytes(0x100000u));
        w.AddSegment(0x100000, 0x100000, [0xF4, 0xEB, 0xFD], memSize, 5);
        return w.Build();
    }

    private static string Refusal(byte[] image) =>
        Assert.Throws<BootException>(() => new PcMachine(new MachineConfig { Kernel = image, MemorySize = 64UL << 20 }))!.Message;

    [Test]
    public void ValidImageBoots()
    {
        using var m = new PcMachine(new MachineConfig { Kernel = Pvh(), MemorySize = 64UL << 20 });
        Assert.That(m.Run(100).Kind, Is.EqualTo(ExitKind.HaltedForever));
    }

    [Test]
    public void WrongMachineIsRefused()
    {
        var image = Pvh();
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(18), 183); // EM_AARCH64
        Assert.That(Refusal(image), Does.Contain("machine 183").And.Contain("wrong ELF machine"));
    }

    [Test]
    public void NoProgramHeadersIsRefused()
    {
        var image = Pvh();
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(56), 0); // e_phnum
        Assert.That(Refusal(image), Does.Contain("e_phnum = 0"));
    }

    [Test]
    public void NoLoadableSegmentIsRefused()
    {
        var image = Pvh();
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(64 + 56), 6); // second header: PT_LOAD -> PT_PHDR
        Assert.That(Refusal(image), Does.Contain("no loadable (PT_LOAD) segment"));
    }

    [Test]
    public void NoteOutsideTheFileIsRefused()
    {
        var image = Pvh();
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(64 + 8), (ulong)image.Length - 4); // note p_offset
        Assert.That(Refusal(image), Does.Contain("malformed").And.Contain("outside the"));
    }

    [Test]
    public void NoteSizeRunningPastItsSegmentIsRefused()
    {
        var image = Pvh();
        int note = (int)BinaryPrimitives.ReadUInt64LittleEndian(image.AsSpan(64 + 8));
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(note + 4), 0xFFFF_FFF0); // descsz
        Assert.That(Refusal(image), Does.Contain("note runs past its segment"));
    }

    [TestCase(0xFFFF_FFFF_FFFF_F000UL)]
    [TestCase(0x1_0000_0000UL)]
    [TestCase(0x8000_0000UL)]
    public void HugeMemorySizeIsRefusedWithoutAllocating(ulong memSize) =>
        Assert.That(Refusal(Pvh(memSize)), Does.Contain("does not fit in guest RAM"));

    [Test]
    public void ProgramHeaderTableNear2To64IsRefused()
    {
        var image = Pvh();
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(32), ulong.MaxValue - 40); // e_phoff
        Assert.That(Refusal(image), Does.Contain("malformed"));
    }
}
