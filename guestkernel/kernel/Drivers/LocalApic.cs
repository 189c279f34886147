using KhoEmu.Kernel.Arch;
using KhoEmu.Kernel.Mm;

using KhoEmu.Guest.Platform;
namespace KhoEmu.Kernel.Drivers;

/// <summary>The local APIC (xAPIC MMIO at 0xFEE00000 through the direct map): enable, periodic timer, EOI.</summary>
public static unsafe class LocalApic
{
    private const ulong Base = 0xFEE0_0000;
    private const uint Svr = 0xF0, Eoi = 0xB0, Tpr = 0x80, LvtTimer = 0x320, TimerInitial = 0x380, TimerDivide = 0x3E0;
    private static bool s_enabled;

    private static void Write(uint reg, uint value) => Native.MmioWrite32((byte*)Phys.ToVirt(Base) + reg, value);

    public static void Init()
    {
        // Mask both 8259 PICs: all interrupts come through the local APIC.
        Native.Outb(0x21, 0xFF);
        Native.Outb(0xA1, 0xFF);
        Native.Wrmsr(0x1B, Native.Rdmsr(0x1B) | (1UL << 11));   // IA32_APIC_BASE: global enable
        Write(Tpr, 0);
        Write(Svr, 0x100 | Traps.SpuriousVector);
        s_enabled = true;
    }

    /// <summary>Periodic timer on <see cref="Traps.TimerVector"/>: <paramref name="count"/> bus clocks / 16 per tick.</summary>
    public static void StartTimer(uint count)
    {
        Write(TimerDivide, 0x3);                                   // divide by 16
        Write(LvtTimer, (1u << 17) | Traps.TimerVector);           // periodic
        Write(TimerInitial, count);
    }

    public static void StopTimer()
    {
        Write(LvtTimer, 1u << 16);
        Write(TimerInitial, 0);
    }

    public static void EndOfInterrupt()
    {
        if (s_enabled) Write(Eoi, 0);
    }
}
