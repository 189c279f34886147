using System.Text;
using Iced.Intel;
using KhoEmu.Elf;
using KhoEmu.Machine.Boot;
using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Machine.Tests;

[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class SerialInputTests
{
    /// <summary>A 32-bit PVH guest that echoes COM1 input upper-cased until a newline, then exits with the count.</summary>
    internal static byte[] EchoGuest()
    {
        const ulong Base = 0x10_0000;
        var a = new Assembler(32);
        var poll = a.CreateLabel();
        var done = a.CreateLabel();
        var send = a.CreateLabel();
        a.xor(ebx, ebx);
        a.Label(ref poll);
        a.mov(dx, 0x3FD);
        a.@in(al, dx);
        a.test(al, 1);
        a.jz(poll);
        a.mov(dx, 0x3F8);
        a.@in(al, dx);
        a.cmp(al, (byte)'\n');
        a.je(done);
        a.cmp(al, (byte)'a');
        a.jb(send);
        a.cmp(al, (byte)'z');
        a.ja(send);
        a.sub(al, 0x20);
        a.Label(ref send);
        a.@out(dx, al);
        a.inc(ebx);
        a.jmp(poll);
        a.Label(ref done);
        a.mov(eax, ebx);
        a.mov(dx, 0xF4);
        a.@out(dx, eax);
        a.hlt();
        using var ms = new MemoryStream();
        a.Assemble(new StreamCodeWriter(ms), Base);
        var w = new ElfWriter(ElfWriter.FileKind.Executable) { Entry = Base };
        w.AddSegment(Base, Base, ms.ToArray(), (ulong)ms.Length, 5);
        w.AddNote("Xen", DirectBoot.PvhNoteType, BitConverter.GetBytes(Base));
        return w.Build();
    }

    [Test]
    public void HostInputReachesTheGuestThroughTheUart()
    {
        var serial = new MemoryStream();
        using var m = new PcMachine(new MachineConfig
        {
            Kernel = EchoGuest(),
            SerialInput = new MemoryStream(Encoding.ASCII.GetBytes("hello, Serial!\n")),
            SerialOutput = serial,
        });
        var exit = m.Run(2_000_000_000);
        Assert.That(exit.Kind, Is.EqualTo(ExitKind.DebugExit), exit.Diagnostic);
        Assert.That(Encoding.ASCII.GetString(serial.ToArray()), Is.EqualTo("HELLO, SERIAL!"));
        Assert.That(exit.ExitCode, Is.EqualTo((14 << 1) | 1));
    }

    [Test]
    public void WithoutInputTheGuestWaitsAndTheRunStopsAtTheLimit()
    {
        using var m = new PcMachine(new MachineConfig { Kernel = EchoGuest() });
        var exit = m.Run(1_000_000);
        Assert.That(exit.Kind, Is.EqualTo(ExitKind.InstructionLimit));
    }
}
