using Iced.Intel;
using KhoEmu.Cpu.State;
using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Cpu.Tests;

/// <summary>
/// MINPS/MAXPS/MINPD/MAXPD/MINSS/MAXSS/MINSD/MAXSD against the host CPU (<see cref="X87NativeExecutor"/> runs the
/// instruction between an FXRSTOR64 and an FXSAVE64 of the same image in both): XMM0/XMM1 and MXCSR (its IE and DE
/// flags, sticky input flags, DAZ on and off) must match for lanes drawn from zeros, infinities, QNaNs, SNaNs,
/// denormals and equal values, with register and memory source operands.
/// </summary>
[TestFixture, NonParallelizable, Category("Differential")]
public sealed unsafe class SseMinMaxDifferentialTests
{
    private const int BufferSize = 256;
    private const ulong ImageIn = TestRig.DataBase + 0x1000, ImageOut = TestRig.DataBase + 0x1400;

    private static readonly string[] Names = ["minps", "maxps", "minpd", "maxpd", "minss", "maxss", "minsd", "maxsd"];

    public static IEnumerable<string> Cases() => Names.SelectMany(n => new[] { n + " xmm, xmm", n + " xmm, mem" });

    private static ulong Lane64(Random r) => r.Next(10) switch
    {
        0 => r.Next(2) == 0 ? 0UL : 1UL << 63,
        1 => 0x7FF0_0000_0000_0000UL | (r.Next(2) == 0 ? 0 : 1UL << 63),
        2 => 0x7FF8_0000_0000_0000UL | (uint)r.Next() | ((ulong)r.Next(2) << 63), // QNaN
        3 => 0x7FF0_0000_0000_0001UL | (uint)r.Next() | ((ulong)r.Next(2) << 63), // SNaN
        4 => (ulong)r.NextInt64(1, 1L << 52) | ((ulong)r.Next(2) << 63), // denormal
        5 => BitConverter.DoubleToUInt64Bits(r.Next(-3, 4)),
        _ => (ulong)r.NextInt64() ^ ((ulong)r.Next(2) << 63),
    };

    private static uint Lane32(Random r) => r.Next(10) switch
    {
        0 => r.Next(2) == 0 ? 0u : 0x8000_0000,
        1 => 0x7F80_0000u | (r.Next(2) == 0 ? 0 : 0x8000_0000),
        2 => 0x7FC0_0000u | (uint)r.Next(0x40_0000) | (r.Next(2) == 0 ? 0 : 0x8000_0000),
        3 => 0x7F80_0001u | (uint)r.Next(0x3F_FFFF) | (r.Next(2) == 0 ? 0 : 0x8000_0000),
        4 => (uint)r.Next(1, 0x80_0000) | (r.Next(2) == 0 ? 0 : 0x8000_0000),
        5 => BitConverter.SingleToUInt32Bits(r.Next(-3, 4)),
        _ => (uint)r.Next() ^ (r.Next(2) == 0 ? 0 : 0x8000_0000),
    };

    private static ulong Qword(Random r, bool dbl) => dbl ? Lane64(r) : Lane32(r) | (ulong)Lane32(r) << 32;

    [TestCaseSource(nameof(Cases))]
    public void MatchesHostCpu(string form)
    {
        string name = form.Split(' ')[0];
        bool memory = form.EndsWith("mem", StringComparison.Ordinal);
        bool dbl = name.EndsWith('d');
        var rnd = new Random(TestSeeds.For(form));
        using var native = new X87NativeExecutor();
        using var rig = new TestRig();
        var a0 = new Assembler(64);
        object src = memory ? (name.EndsWith("ps") || name.EndsWith("pd") ? __xmmword_ptr[rbx + 0x40] : name.EndsWith("ss") ? __dword_ptr[rbx + 0x44] : __qword_ptr[rbx + 0x48]) : xmm1;
        typeof(Assembler).GetMethod(name, [typeof(AssemblerRegisterXMM), src.GetType()])!.Invoke(a0, [xmm0, src]);
        using var ms = new MemoryStream();
        a0.Assemble(new StreamCodeWriter(ms), TestRig.CodeBase);
        byte[] code = ms.ToArray();
        byte[] program = [.. Asm(a => a.fxrstor64(__[(long)ImageIn])), .. code, .. Asm(a => { a.fxsave64(__[(long)ImageOut]); a.hlt(); })];
        rig.Memory.Write(TestRig.CodeBase, program);
        byte[] image = new byte[512], hostOut = new byte[512], emuOut = new byte[512];
        byte[] hostBuf = new byte[BufferSize], emuBuf = new byte[BufferSize];
        byte* aligned = (byte*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(BufferSize, 64);
        try { Check(); }
        finally { System.Runtime.InteropServices.NativeMemory.AlignedFree(aligned); }

        void Check()
        {
        int mismatches = 0;
        var report = new List<string>();
        for (int n = 0; n < 4000; n++)
        {
            Array.Clear(image);
            BitConverter.TryWriteBytes(image.AsSpan(0), (ushort)0x037F);
            uint mxcsr = 0x1F80 | (n % 3 == 0 ? 0x40u : 0) | (n % 5 == 0 ? (uint)rnd.Next(64) : 0);
            BitConverter.TryWriteBytes(image.AsSpan(24), mxcsr);
            ulong[] lanes = [Qword(rnd, dbl), Qword(rnd, dbl), Qword(rnd, dbl), Qword(rnd, dbl)];
            if (n % 8 == 0) { lanes[2] = lanes[0]; lanes[3] = lanes[1]; }
            for (int i = 0; i < 4; i++) BitConverter.TryWriteBytes(image.AsSpan(160 + 8 * i), lanes[i]);
            rnd.NextBytes(hostBuf);
            for (int i = 0; i < 2; i++) BitConverter.TryWriteBytes(hostBuf.AsSpan(0x40 + 8 * i), Qword(rnd, dbl));
            if (n % 8 == 1) Array.Copy(image, 160, hostBuf, 0x40, 16);
            var state = new ulong[X87NativeExecutor.StateSlots];
            state[16] = 0x202;
            // The host buffer must be 16-byte aligned like the emulator's (packed m128 operands), so it is unmanaged.
            hostBuf.CopyTo(new Span<byte>(aligned, BufferSize));
            state[3] = (ulong)aligned;
            native.Execute(code, state, image, hostOut);
            rig.Memory.Write(TestRig.DataBase, hostBuf);
            rig.Memory.Write(ImageIn, image);
            rig.Cpu.SetGpr(Cpu.RBX, TestRig.DataBase);
            rig.Cpu.InstructionPointer = TestRig.CodeBase;
            var reason = rig.Cpu.Run(3);
            rig.Memory.Read(ImageOut, emuOut);
            string? diff = reason != StopReason.InstructionLimit ? $"emulator stopped: {reason} {rig.Cpu.Diagnostic}"
                : !hostOut.AsSpan(160, 32).SequenceEqual(emuOut.AsSpan(160, 32)) ? "xmm0/xmm1 differ"
                : BitConverter.ToUInt32(hostOut, 24) != BitConverter.ToUInt32(emuOut, 24) ? "mxcsr differs" : null;
            if (diff is null) continue;
            mismatches++;
            if (report.Count < 6)
                report.Add($"{diff}: mxcsr {mxcsr:x} xmm0 {lanes[1]:x16}{lanes[0]:x16} xmm1 {lanes[3]:x16}{lanes[2]:x16} mem {BitConverter.ToUInt64(hostBuf, 0x48):x16}{BitConverter.ToUInt64(hostBuf, 0x40):x16}"
                    + $" -> host {Convert.ToHexString(hostOut, 160, 16)} mxcsr {BitConverter.ToUInt32(hostOut, 24):x}, emu {Convert.ToHexString(emuOut, 160, 16)} mxcsr {BitConverter.ToUInt32(emuOut, 24):x}");
        }
        Assert.That(mismatches, Is.Zero, string.Join("\n", report));
        }
    }

    private static byte[] Asm(Action<Assembler> build)
    {
        var a = new Assembler(64);
        build(a);
        using var ms = new MemoryStream();
        a.Assemble(new StreamCodeWriter(ms), TestRig.CodeBase);
        return ms.ToArray();
    }

    [TestCase(true, State.Vector.XM)]
    [TestCase(false, State.Vector.UD)]
    public void UnmaskedInvalidFaultsAndKeepsTheDestination(bool osxmmexcpt, int vector)
    {
        using var rig = new TestRig();
        const ulong handler = TestRig.CodeBase + 0x8000;
        rig.SetGate(vector, handler);
        rig.Load(a => { a.mov(r15, vector); a.stmxcsr(__dword_ptr[rbx + 8]); a.hlt(); }, handler);
        ulong cr4 = rig.Cpu.Cr4Value & ~State.ControlBits.Cr4OSXMMEXCPT;
        rig.Cpu.SetControlRegisters(rig.Cpu.Cr0Value, rig.Cpu.Cr3Value, cr4 | (osxmmexcpt ? State.ControlBits.Cr4OSXMMEXCPT : 0), rig.Cpu.EferValue);
        rig.W64(TestRig.DataBase, 0x1F80 & ~0x80u); // IM clear
        var before = new Xmm(BitConverter.DoubleToUInt64Bits(1.0), BitConverter.DoubleToUInt64Bits(2.0));
        rig.Cpu.SetXmm(0, before);
        rig.Cpu.SetXmm(1, new Xmm(0x7FF8_0000_0000_0000, BitConverter.DoubleToUInt64Bits(3.0)));
        rig.Cpu.SetGpr(15, 0);
        rig.Load(a => { a.mov(rbx, TestRig.DataBase); a.ldmxcsr(__dword_ptr[rbx]); a.maxpd(xmm0, xmm1); a.hlt(); });
        rig.Cpu.Run(10);
        Assert.That(rig.Cpu.GetGpr(15), Is.EqualTo((ulong)vector));
        Assert.That(rig.Cpu.GetXmm(0), Is.EqualTo(before), "an unmasked exception leaves the destination unchanged");
        Assert.That(rig.R64(TestRig.DataBase + 8) & 0xFFFF, Is.EqualTo(0x1F01UL), "IE is set even when the exception is taken");
    }
}
