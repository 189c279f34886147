using MemoryPack;

namespace KhoEmu.Devices.Interrupts;

/// <summary>One 8259A: IRR, ISR, IMR, the vector base, the initialisation step, OCW3's register select and the input
/// line levels (edges are detected against them).</summary>
[MemoryPackable]
public sealed partial record PicChipState(byte Irr, byte Isr, byte Imr, byte VectorBase, int InitStep, bool ReadIsr, bool Icw4Needed, byte Lines);

/// <summary>The I/O APIC: the 24 redirection entries (with Remote IRR), the input levels, IOREGSEL and the ID.</summary>
[MemoryPackable]
public sealed partial record IoApicState(ulong[] Redirection, bool[] Levels, uint Select, uint Id);

/// <summary>A local APIC: IRR/ISR/TMR (8 words each), every register the guest can write, the pending NMI and the
/// timer's start (its deadline is the clock's timer).</summary>
[MemoryPackable]
public sealed partial record LocalApicState(int Id, uint[] Irr, uint[] Isr, uint[] Tmr, uint Tpr, uint Svr, uint LvtTimer,
    uint Divide, uint Initial, uint Ldr, uint Dfr, uint LvtLint0, uint LvtLint1, uint LvtError, uint Esr,
    uint IcrLow, uint IcrHigh, bool NmiPending, ulong TimerStart);
