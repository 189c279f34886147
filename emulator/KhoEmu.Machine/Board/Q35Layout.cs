using System.Collections.Immutable;
using KhoEmu.Memory;

namespace KhoEmu.Machine.Board;

/// <summary>
/// The q35 board, described once (QEMU's hw/i386/pc_q35.c, hw/pci-host/q35.c, hw/isa/lpc_ich9.c): the RAM split,
/// the firmware ROM, the chipset's fixed MMIO ranges, the PCI windows, every device's ports and IRQs, and the PCI slots.
/// PcMachine registers devices from these records; the ACPI tables, the e820 map and fw_cfg read the same values.
/// docs/board.md has the table.
/// </summary>
public static class Q35Layout
{
    // ---- Memory (RAM below 2 GiB, the rest from 4 GiB; PhysicalMemory implements the split) ----
    public const ulong LowRamLimit = PhysicalMemory.LowMemoryLimit;
    public const ulong HighRamBase = PhysicalMemory.HighMemoryBase;
    /// <summary>The firmware ROM ends at 4 GiB (reset vector in its last 16 bytes).</summary>
    public const ulong RomEnd = 1UL << 32;
    /// <summary>The top 1 KiB of conventional memory (an EBDA-sized hole, reserved as QEMU's e820 does).</summary>
    public static readonly MmioRange Ebda = new(0x9FC00, 0x400);
    /// <summary>The BIOS area scanned for the RSDP (ACPI 6.5 §5.2.5.1: 0xE0000-0xFFFFF on 16-byte boundaries).</summary>
    public static readonly MmioRange BiosArea = new(0xE0000, 0x20000);
    /// <summary>The system BIOS segment (F-segment), reserved in every boot path; the RSDP lives here.</summary>
    public static readonly MmioRange FSegment = new(0xF0000, 0x10000);
    /// <summary>Where direct boot (no firmware) places the ACPI tables: the E-segment, e820 type ACPI.</summary>
    public static readonly MmioRange DirectBootAcpiTables = new(0xE0000, 0x10000);

    // ---- Chipset MMIO ----
    public const ulong EcamBase = 0xB000_0000, EcamSize = 0x1000_0000;        // MCH PCIEXBAR, 256 buses
    public const int EcamFirstBus = 0, EcamLastBus = 255;
    /// <summary>32-bit PCI MMIO window: from the end of ECAM to below the I/O APIC (QEMU's q35 pci_hole).</summary>
    public static readonly MmioRange PciMmio32 = new(0xC000_0000, 0xFEC0_0000 - 0xC000_0000);
    public const ulong IoApicBase = 0xFEC0_0000;
    public const int IoApicId = 0, IoApicPins = 24, IoApicGsiBase = 0;
    public const ulong HpetBase = 0xFED0_0000, HpetSize = 0x400;
    /// <summary>HPET capability ID as QEMU's hpet: vendor 8086, legacy replacement, 64-bit counter, 3 timers, rev 1.</summary>
    public const uint HpetEventTimerBlockId = 0x8086_A201;
    public const ulong VtdBase = 0xFED9_0000, VtdSize = 0x1000;
    public const ulong LocalApicBase = 0xFEE0_0000, LocalApicSize = 0x1000;
    public const int LocalApicId = 0;

    // ---- ICH9 ACPI (PMBASE 0x600, QEMU's ICH9_PMIO_*) ----
    public const ushort PmBase = 0x600, PmBlockSize = 0x80;
    public const ushort Pm1aEventBlock = PmBase, Pm1aControlBlock = PmBase + 0x04, PmTimerBlock = PmBase + 0x08;
    public const ushort Gpe0Block = PmBase + 0x20;
    public const byte Pm1EventLength = 4, Pm1ControlLength = 2, PmTimerLength = 4, Gpe0Length = 16;
    public const ushort SmiCommandPort = 0xB2;
    public const byte AcpiEnable = 0x02, AcpiDisable = 0x03;
    public const ushort ResetRegisterPort = 0xCF9;
    public const byte ResetValue = 0x06;
    /// <summary>CMOS index of the century byte (FADT CENTURY).</summary>
    public const byte RtcCenturyIndex = 0x32;
    public const int SciIrq = 9;
    /// <summary>FERR#: the x87 reports errors on ISA IRQ 13 while CR0.NE is clear (the PC/AT convention).</summary>
    public const int FpuErrorIrq = 13;

    // ---- PCI ----
    public const int HostBridgeSlot = 0, EduSlot = 1, DmaEngineSlot = 2;
    /// <summary>PCI I/O windows either side of the CF8-CFF configuration ports (QEMU's q35 _CRS).</summary>
    public static readonly ImmutableArray<(ushort Min, ushort Max)> PciIoWindows = [(0x0000, 0x0CF7), (0x0D00, 0xFFFF)];

    /// <summary>ISA IRQ n reaches I/O APIC pin n, except the PIT's IRQ 0, wired to pin 2 (the MADT override).</summary>
    public static int IsaIrqToGsi(int irq) => irq == 0 ? 2 : irq;

    // ---- Devices ----
    public static readonly BoardDevice LocalApic = new("local-apic") { Mmio = new(LocalApicBase, LocalApicSize) };
    public static readonly BoardDevice IoApic = new("ioapic") { Mmio = new(IoApicBase, 0x1000) };
    public static readonly BoardDevice PicMaster = new("pic-master") { Ports = [new(0x20, 2)], IsaIrqs = [2] };
    public static readonly BoardDevice PicSlave = new("pic-slave") { Ports = [new(0xA0, 2)] };
    public static readonly BoardDevice Pit = new("pit") { Ports = [new(0x40, 4)], IsaIrqs = [0] };
    /// <summary>NMI status and control (port B): PIT channel 2 gate and speaker, OUT2 and refresh toggle.</summary>
    public static readonly BoardDevice PortB = new("port61") { Ports = [new(0x61, 1)] };
    public static readonly BoardDevice Keyboard = new("i8042") { Ports = [new(0x60, 1), new(0x64, 1)], IsaIrqs = [1, 12] };
    public static readonly BoardDevice Rtc = new("rtc") { Ports = [new(0x70, 2)], IsaIrqs = [8] };
    public static readonly BoardDevice Com1 = new("uart-com1") { Ports = [new(0x3F8, 8)], IsaIrqs = [4] };
    public static readonly BoardDevice DebugExit = new("isa-debug-exit") { Ports = [new(0xF4, 4)] };
    public static readonly BoardDevice ApmControl = new("apm") { Ports = [new(SmiCommandPort, 2)] };
    public static readonly BoardDevice FwCfg = new("fw_cfg") { Ports = [new(0x510, 12)] };
    public static readonly BoardDevice KhoOracle = new("kho-oracle") { Ports = [new(Machine.KhoOracle.Port, 4)] };
    public static readonly BoardDevice PmBlock = new("ich9-pm") { Ports = [new(PmBase, PmBlockSize)], IsaIrqs = [SciIrq] };
    /// <summary>CONFIG_ADDRESS/CONFIG_DATA, decoded around the reset control byte at 0xCF9 (a dword at 0xCF8 still
    /// reaches the whole CONFIG_ADDRESS register: the bus splits wide accesses).</summary>
    public static readonly BoardDevice PciConfig = new("pci-conf1") { Ports = [new(0xCF8, 1), new(0xCFA, 2), new(0xCFC, 4)] };
    /// <summary>Reset control (ICH9 RST_CNT): one byte inside the CF8-CFF range.</summary>
    public static readonly BoardDevice ResetControl = new("reset-control") { Ports = [new(ResetRegisterPort, 1)] };
    public static readonly BoardDevice Ecam = new("pci-ecam") { Mmio = new(EcamBase, EcamSize) };
    /// <summary>HPET: its timers route to I/O APIC inputs the guest programs (legacy replacement: IRQ 0 and 8).</summary>
    public static readonly BoardDevice Hpet = new("hpet") { Mmio = new(HpetBase, HpetSize) };
    public static readonly BoardDevice Iommu = new("intel-iommu") { Mmio = new(VtdBase, VtdSize) };
    public static readonly BoardDevice HostBridge = new("q35-host-bridge") { PciSlot = HostBridgeSlot };
    public static readonly BoardDevice Edu = new("edu") { PciSlot = EduSlot };
    public static readonly BoardDevice DmaEngine = new("dma-engine") { PciSlot = DmaEngineSlot };

    /// <summary>Every device of the board (including the chipset devices the ACPI tables describe).</summary>
    public static readonly ImmutableArray<BoardDevice> Devices =
    [
        LocalApic, IoApic, PicMaster, PicSlave, Pit, PortB, Keyboard, Rtc, Com1, DebugExit, ApmControl, FwCfg, KhoOracle,
        PmBlock, PciConfig, ResetControl, Ecam, Hpet, Iommu, HostBridge, Edu, DmaEngine,
    ];
}
