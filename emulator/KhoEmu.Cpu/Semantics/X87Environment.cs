using System.Buffers.Binary;
using Iced.Intel;
using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.State;
using KhoEmu.Cpu.X87;
using static KhoEmu.Cpu.Semantics.X87Core;

namespace KhoEmu.Cpu.Semantics;

/// <summary>
/// FSTENV/FNSTENV, FLDENV, FSAVE/FNSAVE and FRSTOR with the four environment layouts of Intel SDM vol. 1, figures
/// 8-9 to 8-12: 14 bytes (16-bit operand size) or 28 bytes (32-bit), each in a protected-mode form (pointer offsets
/// and selectors) or a real-mode form (20/32-bit linear pointers split around FOP). Reserved halves of the 32-bit
/// forms are stored as FFFFH, as Intel processors and Bochs store them; they are ignored on load.
/// </summary>
internal static class X87Environment
{
    private const int RegisterBytes = 80;

    public static void Fnstenv(Cpu c, ref DecodedOp op) => StoreEnvironment(c, ref op, false, false);
    public static void Fstenv(Cpu c, ref DecodedOp op) => StoreEnvironment(c, ref op, true, false);
    public static void Fnsave(Cpu c, ref DecodedOp op) => StoreEnvironment(c, ref op, false, true);
    public static void Fsave(Cpu c, ref DecodedOp op) => StoreEnvironment(c, ref op, true, true);
    public static void Fldenv(Cpu c, ref DecodedOp op) => LoadEnvironment(c, ref op, false);
    public static void Frstor(Cpu c, ref DecodedOp op) => LoadEnvironment(c, ref op, true);

    private static bool Wide(ref DecodedOp op) =>
        op.Insn.MemorySize is MemorySize.FpuEnv28 or MemorySize.FpuState108;

    /// <summary>
    /// Stores the environment (and for FSAVE the eight registers in ST order); FSTENV then masks all exceptions,
    /// FSAVE then initialises the FPU as FNINIT does.
    /// </summary>
    private static void StoreEnvironment(Cpu c, ref DecodedOp op, bool waiting, bool registers)
    {
        if (!Begin(c, waiting)) return;
        bool wide = Wide(ref op);
        int envSize = wide ? 28 : 14;
        Span<byte> image = stackalloc byte[28 + RegisterBytes];
        var env = image[..envSize];
        WriteEnvironment(c, env, wide, c.Mode == CpuMode.Real16);
        int size = envSize;
        if (registers)
        {
            for (int i = 0; i < 8; i++)
            {
                var v = c.Fpu.St(i);
                var slot = image.Slice(envSize + i * 10, 10);
                BinaryPrimitives.WriteUInt64LittleEndian(slot, v.Significand);
                BinaryPrimitives.WriteUInt16LittleEndian(slot[8..], v.SignExponent);
            }
            size += RegisterBytes;
        }
        ulong la = c.OperandLinear(ref op);
        if (!c.ProbeWrite(la, size)) return;
        for (int i = 0; i < size; i++) c.WriteLinear(la + (ulong)i, 1, image[i]);
        if (c.Faulted) return;
        if (registers)
        {
            c.Fpu = X87State.AfterInit(c.Fpu);
            c.SetFerr(false);
        }
        else
        {
            // Masking everything leaves nothing pending: ES and B clear (the host CPU shows ES follows the masks).
            c.Fpu.ControlWord |= X87State.ExceptionBits;
            c.Fpu.UpdateErrorSummary();
            c.SetFerr(false);
        }
    }

    private static void LoadEnvironment(Cpu c, ref DecodedOp op, bool registers)
    {
        if (!Begin(c)) return;
        bool wide = Wide(ref op);
        int envSize = wide ? 28 : 14;
        int size = envSize + (registers ? RegisterBytes : 0);
        Span<byte> image = stackalloc byte[28 + RegisterBytes];
        ulong la = c.OperandLinear(ref op);
        for (int i = 0; i < size; i++) image[i] = (byte)c.ReadLinear(la + (ulong)i, 1);
        if (c.Faulted) return;
        var s = c.Fpu;
        ushort tags = ReadEnvironment(ref s, image[..envSize], wide, c.Mode == CpuMode.Real16);
        if (registers)
            for (int i = 0; i < 8; i++)
            {
                var slot = image.Slice(envSize + i * 10, 10);
                s.Registers[(s.Top + i) & 7] = new Float80(BinaryPrimitives.ReadUInt64LittleEndian(slot),
                    BinaryPrimitives.ReadUInt16LittleEndian(slot[8..]));
            }
        s.LoadTagWord(tags);
        s.UpdateErrorSummary();
        c.Fpu = s;
        if (!s.ErrorPending) c.SetFerr(false);
    }

    /// <summary>Formats the environment (SDM vol. 1, figures 8-9 to 8-12).</summary>
    internal static void WriteEnvironment(Cpu c, Span<byte> env, bool wide, bool realMode)
    {
        ref var s = ref c.Fpu;
        uint ip = (uint)s.LastInstructionPointer, dp = (uint)s.LastDataPointer;
        if (realMode)
        {
            ip = (uint)(s.LastInstructionSelector << 4) + ip;
            dp = (uint)(s.LastDataSelector << 4) + dp;
        }
        ushort fop = (ushort)(s.LastOpcode & 0x7FF);
        if (wide)
        {
            Put32(env, 0, 0xFFFF_0000u | s.ControlWord);
            Put32(env, 4, 0xFFFF_0000u | s.StatusWord);
            Put32(env, 8, 0xFFFF_0000u | s.TagWord);
            if (realMode)
            {
                Put32(env, 12, 0xFFFF_0000u | (ip & 0xFFFF));
                Put32(env, 16, ((ip & 0xFFFF_0000u) >> 4) | fop);
                Put32(env, 20, 0xFFFF_0000u | (dp & 0xFFFF));
                Put32(env, 24, (dp & 0xFFFF_0000u) >> 4);
            }
            else
            {
                Put32(env, 12, ip);
                Put32(env, 16, s.LastInstructionSelector | ((uint)fop << 16));
                Put32(env, 20, dp);
                Put32(env, 24, 0xFFFF_0000u | s.LastDataSelector);
            }
            return;
        }
        Put16(env, 0, s.ControlWord);
        Put16(env, 2, s.StatusWord);
        Put16(env, 4, s.TagWord);
        Put16(env, 6, (ushort)ip);
        Put16(env, 10, (ushort)dp);
        if (realMode)
        {
            Put16(env, 8, (ushort)(((ip >> 4) & 0xF000) | fop));
            Put16(env, 12, (ushort)((dp >> 4) & 0xF000));
        }
        else
        {
            Put16(env, 8, s.LastInstructionSelector);
            Put16(env, 12, s.LastDataSelector);
        }
    }

    /// <summary>Parses an environment into <paramref name="s"/> and returns its tag word (applied by the caller once
    /// the registers are in place). Real-mode pointers load as linear addresses with zero selectors.</summary>
    internal static ushort ReadEnvironment(ref X87State s, ReadOnlySpan<byte> env, bool wide, bool realMode)
    {
        ushort tags;
        if (wide)
        {
            s.ControlWord = X87Control.NormalizeControl(Get16(env, 0));
            s.StatusWord = Get16(env, 4);
            tags = Get16(env, 8);
            if (realMode)
            {
                uint w16 = Get32(env, 16);
                s.LastInstructionPointer = ((w16 & 0x0FFF_F000u) << 4) | Get16(env, 12);
                s.LastOpcode = (ushort)(w16 & 0x7FF);
                s.LastDataPointer = ((Get32(env, 24) & 0x0FFF_F000u) << 4) | Get16(env, 20);
                s.LastInstructionSelector = s.LastDataSelector = 0;
            }
            else
            {
                s.LastInstructionPointer = Get32(env, 12);
                s.LastInstructionSelector = Get16(env, 16);
                s.LastOpcode = (ushort)(Get16(env, 18) & 0x7FF);
                s.LastDataPointer = Get32(env, 20);
                s.LastDataSelector = Get16(env, 24);
            }
            return tags;
        }
        s.ControlWord = X87Control.NormalizeControl(Get16(env, 0));
        s.StatusWord = Get16(env, 2);
        tags = Get16(env, 4);
        if (realMode)
        {
            ushort w8 = Get16(env, 8);
            s.LastInstructionPointer = ((uint)(w8 & 0xF000) << 4) | Get16(env, 6);
            s.LastOpcode = (ushort)(w8 & 0x7FF);
            s.LastDataPointer = ((uint)(Get16(env, 12) & 0xF000) << 4) | Get16(env, 10);
            s.LastInstructionSelector = s.LastDataSelector = 0;
        }
        else
        {
            s.LastInstructionPointer = Get16(env, 6);
            s.LastInstructionSelector = Get16(env, 8);
            s.LastDataPointer = Get16(env, 10);
            s.LastDataSelector = Get16(env, 12);
        }
        return tags;
    }

    private static void Put16(Span<byte> b, int at, ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(b[at..], v);
    private static void Put32(Span<byte> b, int at, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(b[at..], v);
    private static ushort Get16(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt16LittleEndian(b[at..]);
    private static uint Get32(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt32LittleEndian(b[at..]);

    /// <summary>The x87 part of FXSAVE (bytes 0-159); REX.W selects 64-bit FIP/FDP (SDM vol. 1, table 10-2/10-3).</summary>
    internal static void SaveFxArea(Cpu c, Span<byte> area, bool rexW) => c.Fpu.WriteFxsave(area, rexW);

    /// <summary>The x87 part of FXRSTOR. ES and B are recomputed from the loaded flags and masks, as the host CPU
    /// does (an image with ES = 1 and every flag masked loads with ES = 0, and the reverse).</summary>
    internal static void RestoreFxArea(Cpu c, ReadOnlySpan<byte> area, bool rexW)
    {
        var s = c.Fpu;
        s.ReadFxsave(area, rexW);
        s.UpdateErrorSummary();
        c.Fpu = s;
        if (!s.ErrorPending) c.SetFerr(false);
    }
}
