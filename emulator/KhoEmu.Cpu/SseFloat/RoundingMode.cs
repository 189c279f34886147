namespace KhoEmu.Cpu.SseFloat;

/// <summary>MXCSR.RC encodings (Intel SDM vol. 1, 4.8.4, table 4-8).</summary>
internal enum RoundingMode
{
    Nearest = 0,
    Down = 1,
    Up = 2,
    TowardZero = 3,
}
