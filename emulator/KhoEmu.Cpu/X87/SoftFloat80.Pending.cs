namespace KhoEmu.Cpu.X87;

public static partial class SoftFloat80
{
    public static Float80 F2xm1(Float80 a, ushort cw, ref X87Flags f) => throw Pending();
    public static Float80 Fyl2x(Float80 x, Float80 y, ushort cw, ref X87Flags f) => throw Pending();
    public static Float80 Fyl2xp1(Float80 x, Float80 y, ushort cw, ref X87Flags f) => throw Pending();
    public static Float80 Fpatan(Float80 y, Float80 x, ushort cw, ref X87Flags f) => throw Pending();
    public static Float80 Tan(Float80 a, ushort cw, ref X87Flags f, out bool outOfRange) => throw Pending();
    public static Float80 Sin(Float80 a, ushort cw, ref X87Flags f, out bool outOfRange) => throw Pending();
    public static Float80 Cos(Float80 a, ushort cw, ref X87Flags f, out bool outOfRange) => throw Pending();
    public static void SinCos(Float80 a, ushort cw, ref X87Flags f, out Float80 sin, out Float80 cos, out bool outOfRange) => throw Pending();

    private static NotImplementedException Pending() => new("SoftFloat80: this operation is being written");
}
