using System.Buffers.Binary;
using KhoEmu.Guest.Shared;
using KhoEmu.Machine;
using KhoEmu.Memory;
using NUnit.Framework;

namespace KhoEmu.Machine.Tests;

/// <summary>The host-side KHO oracle against a hand-built handover in guest memory.</summary>
public sealed unsafe class KhoOracleTests
{
    private const ulong Descriptor = 0x10_0000, Fdt = 0x10_1000, Chunk = 0x10_2000, Bitmap = 0x10_3000, Cmd = 0x10_4000;
    private const ulong BlockA = 0x20_0000, BlockB = 0x20_1000;

    private static (PhysicalMemory Mem, KhoOracle Oracle) Setup()
    {
        var mem = new PhysicalMemory(64UL << 20);
        var oracle = new KhoOracle(mem, () => 0, () => { });
        var fdt = new byte[4096];
        fixed (byte* p = fdt)
        {
            var w = FdtWriter.Create(p, fdt.Length);
            w.BeginNode("");
            w.PropertyString("compatible", "kho-v1");
            w.PropertyU64("preserved-memory-map", Chunk);
            w.EndNode();
            Assert.That(w.Finish(), Is.GreaterThan(0));
        }
        mem.Write(Fdt, fdt);
        var d = new byte[32];
        BinaryPrimitives.WriteUInt64LittleEndian(d, Fdt);
        BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(8), 4096);
        mem.Write(Descriptor, d);
        var chunk = new byte[4096];
        BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(8), 0);           // order 0
        BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(12), 1);          // one bitmap
        BinaryPrimitives.WriteUInt64LittleEndian(chunk.AsSpan(16), 0);          // covers 0..128 MiB
        BinaryPrimitives.WriteUInt64LittleEndian(chunk.AsSpan(24), Bitmap);
        mem.Write(Chunk, chunk);
        var bits = new byte[4096];
        bits[(BlockA >> 12) / 8] |= (byte)(1 << (int)((BlockA >> 12) % 8));
        bits[(BlockB >> 12) / 8] |= (byte)(1 << (int)((BlockB >> 12) % 8));
        mem.Write(Bitmap, bits);
        mem.Write(BlockA, Enumerable.Repeat((byte)0xAA, 4096).ToArray());
        mem.Write(BlockB, Enumerable.Repeat((byte)0xBB, 4096).ToArray());
        return (mem, oracle);
    }

    private static void Send(PhysicalMemory mem, KhoOracle o, uint cmd, ulong phys, int order)
    {
        var c = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(c, cmd);
        BinaryPrimitives.WriteInt32LittleEndian(c.AsSpan(4), order);
        BinaryPrimitives.WriteUInt64LittleEndian(c.AsSpan(8), phys);
        mem.Write(Cmd, c);
        o.WritePort(0, 4, (uint)Cmd);
    }

    [Test]
    public void UnchangedRestoresPassAndEverythingElseIsAViolation()
    {
        var (mem, o) = Setup();
        using (mem)
        {
            Send(mem, o, KhoOracle.CmdHandover, Descriptor, 0);
            Assert.That(o.PreservedBlocks, Is.EqualTo(2));
            Send(mem, o, KhoOracle.CmdRestored, BlockA, 0);
            Assert.That(o.Violations, Is.Empty);

            mem.Write(BlockB + 100, new byte[] { 1 });                          // written before its restore
            Send(mem, o, KhoOracle.CmdRestored, BlockB, 0);
            Send(mem, o, KhoOracle.CmdRestored, BlockA, 0);                     // restored twice
            Send(mem, o, KhoOracle.CmdRestored, 0x30_0000, 0);                  // never preserved
            Assert.That(o.Violations, Has.Count.EqualTo(3));
            Assert.That(o.Violations[0], Does.Contain("changed between the kexec jump and its restore"));
            Assert.That(o.Violations[1], Does.Contain("restored twice"));
            Assert.That(o.Violations[2], Does.Contain("not in the preserved-memory map"));
        }
    }

    [Test]
    public void MalformedHandoverIsRecordedNotFatal()
    {
        var (mem, o) = Setup();
        using (mem)
        {
            mem.Write(Fdt, new byte[] { 0xDE, 0xAD });                          // break the FDT magic
            Send(mem, o, KhoOracle.CmdHandover, Descriptor, 0);
            Assert.That(o.HandoverProblem, Is.EqualTo("root FDT unreadable"));
            Assert.That(o.PreservedBlocks, Is.Zero);
        }
    }

    /// <summary>
    /// A run with several kexecs: what one handover left unrestored still counts after the next (it stays reserved in
    /// every later kernel), and an unreadable handover stays on record after a readable one.
    /// </summary>
    [Test]
    public void TotalsCoverEveryHandoverOfARun()
    {
        var (mem, o) = Setup();
        using (mem)
        {
            Send(mem, o, KhoOracle.CmdHandover, Descriptor, 0);
            Send(mem, o, KhoOracle.CmdRestored, BlockA, 0);                     // B is left reserved by jump 1
            Send(mem, o, KhoOracle.CmdHandover, Descriptor, 0);
            Send(mem, o, KhoOracle.CmdRestored, BlockA, 0);
            Send(mem, o, KhoOracle.CmdRestored, BlockB, 0);
            Assert.That(o.Handovers, Is.EqualTo(2));
            Assert.That(o.PreservedBlocks, Is.EqualTo(4));
            Assert.That(o.RestoredBlocks, Is.EqualTo(3));
            Assert.That(o.UnrestoredBlocks, Is.EqualTo(1), "jump 1's unrestored block B");
            Assert.That(o.Violations, Is.Empty);

            var fdt = new byte[2];
            Assert.That(mem.Read(Fdt, fdt), Is.True);
            mem.Write(Fdt, new byte[] { 0xDE, 0xAD });
            Send(mem, o, KhoOracle.CmdHandover, Descriptor, 0);                 // jump 3: unreadable
            mem.Write(Fdt, fdt);
            Send(mem, o, KhoOracle.CmdHandover, Descriptor, 0);                 // jump 4: fine, nothing restored
            Assert.That(o.HandoverProblem, Is.EqualTo("jump 3: root FDT unreadable"));
            Assert.That(o.UnrestoredBlocks, Is.EqualTo(1 + 2), "jump 1's B and both of jump 4's blocks");
        }
    }
}
