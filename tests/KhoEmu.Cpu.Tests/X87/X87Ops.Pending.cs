namespace KhoEmu.Cpu.Tests.X87;

internal static partial class X87Ops
{

    private static IEnumerable<X87Op> Transcendental() => [];
}
