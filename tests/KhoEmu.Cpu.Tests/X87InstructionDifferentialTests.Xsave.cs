using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Iced.Intel;
using KhoEmu.Cpu.State;
using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Cpu.Tests;

/// <summary>
/// XSAVE64, XSAVEOPT64, XSAVEC64 and XRSTOR64 (standard and compacted) against the host's XSAVE implementation, for
/// the x87 and SSE components (RFBM ⊆ 3: the host's XCR0 has AVX, which the emulator lacks, and puts PKRU at AMD's
/// offset). The host and the max-model emulator start from the same random FXSAVE image with random XMM registers (so
/// both components are in use: XINUSE may otherwise legitimately differ); the XSAVE area is compared byte for byte
/// (except FOP/FIP/FDP, bytes 23:6, which the AMD host saves only with ES set, and MXCSR_MASK, bytes 31:28, where
/// the AMD host has its misaligned-exception mask bit 17), and after XRSTOR the resulting FXSAVE image.
/// </summary>
public sealed unsafe partial class X87InstructionDifferentialTests
{
    private const int AreaSize = 640;

    private static IEnumerable<string> XsaveForms() =>
        ["xsave64", "xsaveopt64", "xsavec64", "xrstor64 standard", "xrstor64 compacted", "xgetbv 1"];

    public static IEnumerable<TestCaseData> XsaveCases() =>
        XsaveForms().Select(f => new TestCaseData(f).SetName($"XsaveDifferential({f})"));

    [TestCaseSource(nameof(XsaveCases))]
    public void XsaveMatchesHostCpu(string form)
    {
        var rnd = new Random(TestSeeds.For(form) ^ 0x5AFE);
        using var native = new X87NativeExecutor();
        using var rig = new TestRig(model: CpuModels.Max);
        var cpu = rig.Cpu;
        cpu.SetControlRegisters(cpu.Cr0Value, cpu.Cr3Value, cpu.Cr4Value | ControlBits.Cr4OSXSAVE, cpu.EferValue);
        rig.Load(a => { a.xor(ecx, ecx); a.xor(edx, edx); a.mov(eax, 3); a.xsetbv(); });
        Assert.That(cpu.Run(4), Is.EqualTo(StopReason.InstructionLimit), cpu.Diagnostic);

        byte[] code = Assemble(a =>
        {
            switch (form)
            {
                case "xsave64": a.xsave64(__[rbx]); break;
                case "xsaveopt64": a.xsaveopt64(__[rbx]); break;
                case "xsavec64": a.xsavec64(__[rbx]); break;
                case "xgetbv 1": a.xgetbv(); break;
                default: a.xrstor64(__[rbx]); break;
            }
        });
        byte[] program = [.. Assemble(a => a.fxrstor64(__[(long)ImageIn])), .. code, .. Assemble(a => { a.fxsave64(__[(long)ImageOut]); a.hlt(); })];
        rig.Memory.Write(TestRig.CodeBase, program);
        ulong hltAt = TestRig.CodeBase + (ulong)program.Length - 1;
        byte* hostArea = (byte*)NativeMemory.AlignedAlloc(AreaSize, 64);
        try
        {
            var host = new Span<byte>(hostArea, AreaSize);
            byte[] area = new byte[AreaSize], emuArea = new byte[AreaSize];
            byte[] image = new byte[512], hostOut = new byte[512], emuOut = new byte[512];
            int cases = 0, mismatches = 0;
            var report = new List<string>();
            for (int s = 0; s < 300 * Scale; s++)
            {
                RandomImage(rnd, image, dirty: false);
                rnd.NextBytes(image.AsSpan(160, 256)); // XMM0-15 in use
                rnd.NextBytes(area);
                uint rfbm = (uint)rnd.Next(4);
                if (form.StartsWith("xrstor", StringComparison.Ordinal)) XrstorImage(rnd, area, form.EndsWith("compacted", StringComparison.Ordinal), ref rfbm);
                var state = new ulong[X87NativeExecutor.StateSlots];
                for (int i = 0; i < 16; i++) state[i] = (ulong)rnd.NextInt64();
                state[Cpu.RAX] = rfbm;
                state[Cpu.RDX] = 0;
                state[Cpu.RCX] = form == "xgetbv 1" ? 1UL : state[Cpu.RCX];
                state[16] = ((ulong)rnd.Next() & Rflags.Arith) | Rflags.Reserved1 | Rflags.IF;
                var emuState = (ulong[])state.Clone();

                area.CopyTo(host);
                state[3] = (ulong)hostArea;
                native.Execute(code, state, image, hostOut);

                rig.Memory.Write(TestRig.DataBase, area);
                rig.Memory.Write(ImageIn, image);
                var reason = RunSnippet(cpu, emuState);
                rig.Memory.Read(TestRig.DataBase, emuArea);
                rig.Memory.Read(ImageOut, emuOut);
                cases++;
                string? diff = reason != StopReason.InstructionLimit || cpu.InstructionPointer != hltAt
                    ? $"emulator stopped: {reason} at {cpu.InstructionPointer:x} {cpu.Diagnostic}"
                    : CompareXsave(form, state, cpu, host, emuArea, hostOut, emuOut);
                if (diff is null) continue;
                mismatches++;
                if (report.Count < 6) report.Add($"{form} rfbm {rfbm}: {diff}");
            }
            Assert.That(mismatches, Is.Zero, $"{mismatches} of {cases} mismatched\n" + string.Join("\n", report));
        }
        finally
        {
            NativeMemory.AlignedFree(hostArea);
        }
    }

    /// <summary>A valid XRSTOR source: a random legacy region with a valid MXCSR, XSTATE_BV a random subset of x87|SSE,
    /// the header's reserved bytes zero; compacted with XCOMP_BV ⊇ XSTATE_BV.</summary>
    private static void XrstorImage(Random r, byte[] area, bool compacted, ref uint rfbm)
    {
        var legacy = new byte[512];
        RandomImage(r, legacy, dirty: false);
        r.NextBytes(legacy.AsSpan(160, 256));
        BinaryPrimitives.WriteUInt32LittleEndian(legacy.AsSpan(24), (uint)r.Next(0x10000)); // any MXCSR without reserved bits
        if (r.Next(2) == 0) BinaryPrimitives.WriteUInt32LittleEndian(legacy.AsSpan(24), 0x1F80);
        legacy.AsSpan(0, 464).CopyTo(area);
        ulong bv = (ulong)r.Next(4), comp = compacted ? bv | (uint)r.Next(4) | (1UL << 63) : 0;
        area.AsSpan(512, 64).Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(area.AsSpan(512), bv);
        BinaryPrimitives.WriteUInt64LittleEndian(area.AsSpan(520), comp);
        rfbm = (uint)r.Next(4);
    }

    private static string? CompareXsave(string form, ulong[] host, Cpu cpu, ReadOnlySpan<byte> hostArea, byte[] emuArea, byte[] hostOut, byte[] emuOut)
    {
        for (int i = 0; i < 16; i++)
        {
            if (i is 3 or 4) continue;
            // XGETBV(1) = XCR0 AND XINUSE: only x87 and SSE are comparable (the host's PKRU is in use, 55555554h).
            ulong mask = form == "xgetbv 1" && i == Cpu.RAX ? 3UL : ulong.MaxValue;
            if ((host[i] & mask) != (cpu.GetGpr(i) & mask)) return $"GPR {i}: host {host[i]:x} emu {cpu.GetGpr(i):x}";
        }
        for (int i = 0; i < AreaSize; i++)
        {
            if (i is >= 6 and < 24 or >= 28 and < 32) continue;
            if (hostArea[i] != emuArea[i]) return $"area byte {i}: host {hostArea[i]:x2} emu {emuArea[i]:x2}";
        }
        if (!form.StartsWith("xrstor", StringComparison.Ordinal)) return null;
        for (int i = 0; i < 464; i++)
        {
            if (i is >= 6 and < 24 or >= 28 and < 32) continue;
            if (hostOut[i] != emuOut[i]) return $"state after XRSTOR, FXSAVE byte {i}: host {hostOut[i]:x2} emu {emuOut[i]:x2}";
        }
        return null;
    }
}
