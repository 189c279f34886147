using System.Buffers.Binary;
using KhoEmu.Elf;
using KhoEmu.Harness;
using KhoEmu.Machine;
using NUnit.Framework;

namespace KhoEmu.Guest.Tests;

/// <summary>What the guest toolchain produced: linked images, their symbols, the PVH note, relocatability.</summary>
public sealed class ImageTests
{
    private static IEnumerable<TestCaseData> Images()
    {
        yield return new TestCaseData("kernel.elf").SetArgDisplayNames("kernel");
        yield return new TestCaseData("init.elf").SetArgDisplayNames("init");
    }

    private static byte[] Image(string name) => name switch
    {
        "kernel.elf" => GuestImages.Kernel,
        "init.elf" => GuestImages.Init,
        _ => throw new ArgumentException(name),
    };

    [TestCaseSource(nameof(Images))]
    public void LinkedImageHasNoUndefinedSymbols(string name)
    {
        var elf = ElfFile.Parse(Image(name));
        var undefined = elf.Symbols().Where(s => s.SectionIndex == 0 && s.Name.Length > 0).Select(s => s.Name).ToList();
        Assert.That(undefined, Is.Empty);
        Assert.That(elf.Symbols().Count, Is.GreaterThan(50), "the image keeps its symbol table (traces use it)");
    }

    [Test]
    public void KernelIsHigherHalfWithAPvhEntryAtItsLoadAddress()
    {
        var elf = ElfFile.Parse(GuestImages.Kernel);
        var load = elf.Segments.Where(s => s.Type == ElfSegment.Load).ToList();
        Assert.That(load.All(s => s.VirtualAddress >= 0xFFFF_FFFF_8000_0000), "linked in the top 2 GiB");
        ulong lma = load.Min(s => s.PhysicalAddress);
        var note = elf.Notes().Single(n => n.Name == "Xen" && n.Type == 18);
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(note.Descriptor), Is.EqualTo(lma + 0x100));
    }

    /// <summary>The kernel maps itself wherever it is loaded: move every segment (and the PVH entry) up 48 MiB.</summary>
    [Test]
    public void KernelRunsWhenLoadedAtAnotherPhysicalAddress()
    {
        const ulong Shift = 48UL << 20;
        var image = (byte[])GuestImages.Kernel.Clone();
        var elf = ElfFile.Parse(image);
        ulong phoff = BinaryPrimitives.ReadUInt64LittleEndian(image.AsSpan(32));
        for (int i = 0; i < elf.Segments.Count; i++)
        {
            var span = image.AsSpan((int)phoff + 56 * i + 24);
            BinaryPrimitives.WriteUInt64LittleEndian(span, BinaryPrimitives.ReadUInt64LittleEndian(span) + Shift);
        }
        var note = elf.Segments.First(s => s.Type == ElfSegment.Note);
        var desc = image.AsSpan((int)note.Offset + 16);
        BinaryPrimitives.WriteUInt64LittleEndian(desc, BinaryPrimitives.ReadUInt64LittleEndian(desc) + Shift);

        var serial = new MemoryStream();
        var config = new MachineConfig { Kernel = image, CommandLine = "scenario=boot", SerialOutput = serial };
        config.FwCfgFiles.Add(("opt/khoemu/init", GuestImages.Init));
        using var m = new PcMachine(config);
        var exit = m.Run(2_000_000_000);
        string text = System.Text.Encoding.ASCII.GetString(serial.ToArray());
        Assert.That(text, Does.Contain("image at 0x0000000004000000"));
        var report = KtapReport.Parse(text);
        Assert.That(report.Problems, Is.Empty, text);
        Assert.That(report.Failed, Is.Zero, text);
        Assert.That(exit.ExitCode, Is.EqualTo(1), exit.Diagnostic);
    }

    /// <summary>
    /// What ilc demanded when it compiled the init program: every symbol its object leaves undefined must be one the
    /// Iced-assembled user stubs define, and the demands are the known runtime contract.
    /// </summary>
    [Test]
    public void IlcDemandsOnlyWhatTheStubsProvide()
    {
        string obj = Path.Combine(RepoPaths.Root(), "artifacts", "obj", "KhoEmu.Init", Configuration(), "khoemu-init.o");
        Assume.That(File.Exists(obj), $"ilc object not found at {obj}");
        var demanded = ElfFile.Parse(File.ReadAllBytes(obj)).Symbols()
            .Where(s => s.SectionIndex == 0 && s.Name.Length > 0).Select(s => s.Name).ToHashSet();

        var stubs = new GuestStubs.StubObject();
        GuestStubs.UserStubs.Add(stubs);
        var provided = ElfFile.Parse(stubs.Build()).Symbols()
            .Where(s => s.SectionIndex != 0 && s.Binding == 1).Select(s => s.Name).ToHashSet();

        Assert.That(demanded.Except(provided), Is.Empty, "ilc demanded symbols no stub defines");
        Assert.That(demanded, Does.Contain("khoemu_syscall").And.Contain("khoemu_link_info").And.Contain("khoemu_halt_forever"));
        Assert.That(demanded, Does.Contain("RhpTrapThreads").Or.Contain("__security_cookie").Or.Contain("RhpStackProbe"),
            "runtime data symbols or helpers are part of the contract");
    }

    private static string Configuration() =>
        typeof(ImageTests).Assembly.Location.Contains("/release/", StringComparison.Ordinal) ? "release" : "debug";
}
