using Iced.Intel;
using KhoEmu.Cpu.State;
using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Cpu.Tests;

/// <summary>
/// MASKMOVDQU against the host CPU (<see cref="X87NativeExecutor"/> supplies XMM0/XMM1 through an FXRSTOR64 image):
/// random data, masks (random, all ones, all zeros, single bytes) and unaligned DS:RDI targets; the buffer must match.
/// Also its fault behaviour, which the host cannot show safely.
/// </summary>
[TestFixture, NonParallelizable, Category("Differential")]
public sealed unsafe class SseMaskedStoreTests
{
    private const int BufferSize = 256;
    private const ulong ImageIn = TestRig.DataBase + 0x1000;

    private static byte[] Asm(Action<Assembler> build)
    {
        var a = new Assembler(64);
        build(a);
        using var ms = new MemoryStream();
        a.Assemble(new StreamCodeWriter(ms), TestRig.CodeBase);
        return ms.ToArray();
    }

    [Test]
    public void MatchesHostCpu()
    {
        var rnd = new Random(TestSeeds.For("maskmovdqu"));
        byte[] code = Asm(a => a.maskmovdqu(xmm0, xmm1));
        using var native = new X87NativeExecutor();
        using var rig = new TestRig();
        rig.Memory.Write(TestRig.CodeBase, [.. Asm(a => a.fxrstor64(__[(long)ImageIn])), .. code, 0xF4]);
        byte* hostMem = (byte*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(BufferSize, 64);
        try
        {
            byte[] image = new byte[512], hostOut = new byte[512], buf = new byte[BufferSize], emuBuf = new byte[BufferSize];
            for (int n = 0; n < 3000; n++)
            {
                Array.Clear(image);
                BitConverter.TryWriteBytes(image.AsSpan(0), (ushort)0x037F);
                BitConverter.TryWriteBytes(image.AsSpan(24), 0x1F80u);
                rnd.NextBytes(image.AsSpan(160, 32));
                var mask = image.AsSpan(176, 16);
                switch (n % 5)
                {
                    case 0: mask.Fill(0xFF); break;
                    case 1: mask.Clear(); break;
                    case 2: mask.Clear(); mask[rnd.Next(16)] = 0x80; break;
                }
                rnd.NextBytes(buf);
                int offset = rnd.Next(0, BufferSize - 16);
                var state = new ulong[X87NativeExecutor.StateSlots];
                state[16] = 0x202;
                buf.CopyTo(new Span<byte>(hostMem, BufferSize));
                state[7] = (ulong)hostMem + (ulong)offset;
                native.Execute(code, state, image, hostOut);
                rig.Memory.Write(TestRig.DataBase, buf);
                rig.Memory.Write(ImageIn, image);
                rig.Cpu.SetGpr(Cpu.RDI, TestRig.DataBase + (ulong)offset);
                rig.Cpu.InstructionPointer = TestRig.CodeBase;
                Assert.That(rig.Cpu.Run(2), Is.EqualTo(StopReason.InstructionLimit), rig.Cpu.Diagnostic);
                rig.Memory.Read(TestRig.DataBase, emuBuf);
                Assert.That(emuBuf, Is.EqualTo(new Span<byte>(hostMem, BufferSize).ToArray()),
                    $"data {Convert.ToHexString(image, 160, 16)} mask {Convert.ToHexString(image, 176, 16)} at +{offset}");
            }
        }
        finally { System.Runtime.InteropServices.NativeMemory.AlignedFree(hostMem); }
    }

    [Test]
    public void FaultingStoreWritesNothingAndZeroMaskNeverFaults()
    {
        using var p = new FaultProbe();
        // The rig maps 2 MiB pages identity (page directory at 0x102000); unmapping the one at 32 MiB makes the 16
        // bytes from 32 MiB - 8 straddle a not-present page, so the upper selected bytes fault (#PF).
        const ulong end = 32UL << 20;
        p.Rig.W64(0x10_2000 + 16 * 8, 0);
        p.Rig.W64(end - 8, 0x1111_1111_1111_1111);
        p.Cpu.SetXmm(0, new Xmm(0xAAAA_AAAA_AAAA_AAAA, 0xBBBB_BBBB_BBBB_BBBB));
        p.Cpu.SetXmm(1, new Xmm(ulong.MaxValue, ulong.MaxValue));
        p.Cpu.SetGpr(Cpu.RDI, end - 8);
        int raised = p.Run(a => a.maskmovdqu(xmm0, xmm1));
        Assert.That(raised, Is.EqualTo(State.Vector.PF), "a selected byte on the not-present page faults");
        Assert.That(p.Rig.R64(end - 8), Is.EqualTo(0x1111_1111_1111_1111UL), "no byte is written when the store faults");
        p.Cpu.SetXmm(1, new Xmm(ulong.MaxValue, 0));
        p.Cpu.SetGpr(Cpu.RDI, end - 8);
        Assert.That(p.Run(a => a.maskmovdqu(xmm0, xmm1)), Is.EqualTo(FaultProbe.None), "only the selected bytes are accessed");
        Assert.That(p.Rig.R64(end - 8), Is.EqualTo(0xAAAA_AAAA_AAAA_AAAAUL));
    }
}
