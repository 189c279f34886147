namespace KhoEmu.Cpu.Decode;

/// <summary>
/// The x87 last-opcode value (FOP, SDM vol. 1, 8.1.9): the low three bits of the D8-DF escape byte in bits 8-10 and
/// the ModR/M byte in bits 0-7. It needs the instruction's bytes, so it is taken at decode time.
/// </summary>
internal static class X87Opcode
{
    public static ushort Compute(ReadOnlySpan<byte> bytes, int bitness)
    {
        int i = 0;
        while (i < bytes.Length && IsPrefix(bytes[i], bitness)) i++;
        if (i + 1 >= bytes.Length || bytes[i] < 0xD8 || bytes[i] > 0xDF) return 0;
        return (ushort)(((bytes[i] & 7) << 8) | bytes[i + 1]);
    }

    /// <summary>Legacy prefixes, REX in 64-bit mode, and the WAIT (9B) that Iced folds into FSTSW, FINIT and friends.</summary>
    private static bool IsPrefix(byte b, int bitness) =>
        b is 0x66 or 0x67 or 0xF0 or 0xF2 or 0xF3 or 0x2E or 0x36 or 0x3E or 0x26 or 0x64 or 0x65 or 0x9B
        || bitness == 64 && b is >= 0x40 and <= 0x4F;
}
