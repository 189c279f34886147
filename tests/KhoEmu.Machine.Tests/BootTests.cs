using System.Text;
using KhoEmu.Machine;
using KhoEmu.Machine.Boot;
using NUnit.Framework;

namespace KhoEmu.Machine.Tests;

[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class BootTests
{
    [Test]
    public void DemoGuestBootsToLongModeAndExitsThroughDebugExit()
    {
        var serial = new MemoryStream();
        using var m = new PcMachine(new MachineConfig { SerialOutput = serial });
        var exit = m.Run(10_000_000);
        string text = Encoding.ASCII.GetString(serial.ToArray());
        Assert.That(exit.Kind, Is.EqualTo(ExitKind.DebugExit), exit.Diagnostic);
        Assert.That(exit.ExitCode, Is.EqualTo(1), "value 0 written to isa-debug-exit gives (0 << 1) | 1");
        Assert.That(text, Does.Contain("long mode, paging and COM1 are up"));
        Assert.That(text, Does.Contain("SSE2 paddd: ok"));
        Assert.That(text, Does.Contain("rep movsb copied this line: ok"));
        Assert.That(text, Does.Contain("#UD delivered through the IDT: ok"));
    }

    [Test]
    public void SameInputsGiveTheSameInstructionCount()
    {
        ulong Count()
        {
            using var m = new PcMachine(new MachineConfig());
            m.Run(10_000_000);
            return m.Cpu.InstructionCount;
        }
        Assert.That(Count(), Is.EqualTo(Count()));
    }

    [Test]
    public void ImageWithoutPvhNoteOrMultibootHeaderIsRefused()
    {
        var e = Assert.Throws<BootException>(() => new PcMachine(new MachineConfig { Kernel = new byte[8192] }));
        Assert.That(e!.Message, Does.Contain("neither a multiboot header, a bzImage setup header (HdrS) nor a PVH ELF note"));
    }

    [Test]
    public void TruncatedElfIsAClearError()
    {
        var image = new byte[40];
        "\u007fELF"u8.CopyTo(image);
        image[4] = 2;
        image[5] = 1;
        var e = Assert.Throws<BootException>(() => new PcMachine(new MachineConfig { Kernel = image }));
        Assert.That(e!.Message, Does.Contain("malformed"));
    }

    [Test]
    public void LargeSparseGuestStaysSmallOnTheHost()
    {
        using var mem = new KhoEmu.Memory.PhysicalMemory(64UL << 30);
        var chunk = new byte[1 << 20];
        new Random(1).NextBytes(chunk);
        for (ulong i = 0; i < 100; i++) Assert.That(mem.Write((4UL << 30) + i * (64UL << 20), chunk), Is.True);
        Assert.That(mem.ResidentBytes, Is.InRange(100UL << 20, 110UL << 20));
    }
}
