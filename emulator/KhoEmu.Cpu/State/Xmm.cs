using System.Runtime.InteropServices;

namespace KhoEmu.Cpu.State;

/// <summary>A 128-bit SSE register as two 64-bit lanes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct Xmm : IEquatable<Xmm>
{
    public ulong Lo, Hi;

    public Xmm(ulong lo, ulong hi)
    {
        Lo = lo;
        Hi = hi;
    }

    public readonly bool Equals(Xmm other) => Lo == other.Lo && Hi == other.Hi;
    public override readonly bool Equals(object? obj) => obj is Xmm x && Equals(x);
    public override readonly int GetHashCode() => HashCode.Combine(Lo, Hi);
    public override readonly string ToString() => $"{Hi:x16}{Lo:x16}";
    public static bool operator ==(Xmm a, Xmm b) => a.Equals(b);
    public static bool operator !=(Xmm a, Xmm b) => !a.Equals(b);
}
