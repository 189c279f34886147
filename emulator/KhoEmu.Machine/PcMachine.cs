using KhoEmu.Core;
using KhoEmu.Cpu;
using KhoEmu.Devices.Acpi;
using KhoEmu.Devices.Bus;
using KhoEmu.Devices.Chipset;
using KhoEmu.Devices.DebugExit;
using KhoEmu.Devices.FwCfg;
using KhoEmu.Devices.Input;
using KhoEmu.Devices.Interrupts;
using KhoEmu.Devices.Rtc;
using KhoEmu.Devices.Timers;
using KhoEmu.Devices.Uart16550;
using KhoEmu.Devices.Pci;
using KhoEmu.Devices.Iommu;
using KhoEmu.Machine.Acpi;
using KhoEmu.Machine.Board;
using KhoEmu.Machine.Boot;
using KhoEmu.Memory;

namespace KhoEmu.Machine;

/// <summary>
/// The virtual PC: RAM and the memory map, the port and MMIO buses, one or more CPUs (<see cref="MachineConfig.Smp"/>;
/// the SMP part is in PcMachine.Smp.cs), and the QEMU-compatible devices at their usual addresses. Nothing is static,
/// so several machines run side by side in one process.
/// </summary>
public sealed partial class PcMachine : IDisposable
{
    private int? _debugExitCode;
    private readonly SerialInputPump? _serialInput;
    private (ExitKind Kind, string Why)? _exitRequest;

    public PcMachine(MachineConfig config)
    {
        Config = config;
        Memory = new PhysicalMemory(config.MemorySize);
        Devices = new DeviceRegistry(Ports, Memory.Mmio);
        Cpu = new Cpu.Cpu(Memory, Ports, Clock, config.CpuModel, config.RngSeed);
        // Devices read the clock; between events it would lag the CPU, so every device access first catches it up.
        // The access also ends the CPU's block, so what it raises is seen at the next instruction (docs/snapshots.md).
        Ports.BeforeAccess = Memory.Mmio.BeforeAccess = () =>
        {
            var cpu = CurrentCpu;
            cpu.EndBlock();
            Clock.AdvanceTo(cpu.VirtualTime);
        };
        Pic.Register(Ports);
        Devices.Note(Q35Layout.PicMaster, Pic);
        Devices.Note(Q35Layout.PicSlave, Pic);
        Apic = new LocalApic(Clock);
        Cpus = CreateProcessors(config);
        Devices.Add(Q35Layout.LocalApic, Cpus.Count == 1 ? (IMmioDevice)Apic : new LocalApicBank(Apics, () => _current));
        // The I/O APIC's messages are interrupt requests from its DMAR source id, like a PCI device's MSI.
        IoApic = Devices.Add(Q35Layout.IoApic, new IoApic((address, data) => DeliverMsi(SmallTables.IoApicSourceId, address, data)));
        foreach (var apic in Apics) apic.EoiBroadcast = IoApic.EndOfInterrupt;
        Uart = Devices.Add(Q35Layout.Com1, new Uart16550(config.SerialOutput, IsaIrq(Q35Layout.Com1)));
        Devices.Add(Q35Layout.DebugExit, new DebugExit(OnDebugExit));
        FwCfg = Devices.Add(Q35Layout.FwCfg, new FwCfg(Memory));
        KhoOracle = Devices.Add(Q35Layout.KhoOracle, new KhoOracle(Memory, () => InstructionCount, StopAll));
        foreach (var cpu in Cpus) KhoOracle.Attach(cpu, () => CurrentCpu);

        // The q35 chipset's timers, CMOS, ACPI power management, reset and keyboard controller (docs/devices.md).
        Hpet = Devices.Add(Q35Layout.Hpet, new Hpet(Clock, IsaIrq(Q35Layout.Pit), IsaIrq(Q35Layout.Rtc), IoApic.SetIrq));
        Pit = Devices.Add(Q35Layout.Pit, new Pit8254(Clock, Hpet.PitOutput));
        Devices.Add(Q35Layout.PortB, new NmiStatusControl(Pit.Channel(2)));
        Rtc = Devices.Add(Q35Layout.Rtc, new Mc146818Rtc(Clock, Hpet.RtcOutput, config.RtcBase));
        PcCmosLayout.WriteMemorySize(Rtc, Memory.LowRamSize, Memory.HighRamSize, cpus: Cpus.Count);
        Pm = Devices.Add(Q35Layout.PmBlock, new Ich9PowerManagement(Clock, IsaIrq(Q35Layout.PmBlock),
            () => RequestExit(ExitKind.PowerOff, "ACPI S5 (soft off)")));
        Devices.Add(Q35Layout.ApmControl, new ApmControl(Pm.ApmCommand));
        Devices.Add(Q35Layout.ResetControl, new ResetControl(() => RequestExit(ExitKind.Reset, "reset through port 0xcf9")));
        Keyboard = Devices.Add(Q35Layout.Keyboard, new I8042Controller(
            () => RequestExit(ExitKind.Reset, "reset through the keyboard controller"),
            IsaIrq(Q35Layout.Keyboard), new IsaIrqLine(Pic, IoApic, Q35Layout.Keyboard.IsaIrqs[1])));
        for (int i = 0; i < Cpus.Count; i++) Cpus[i].Interrupts = new InterruptRouter(Apics[i], i == 0 ? Pic : null);
        Cpu.FerrLine = new IsaIrqLine(Pic, IoApic, Q35Layout.FpuErrorIrq); // x87 errors with CR0.NE clear

        // PCI (CF8/CFC and ECAM), the VT-d IOMMU and the DMA-capable devices behind it.
        Pci = new PciBus(Memory.Mmio) { InterruptSink = IoApic.SetIrq };
        Devices.Add(Q35Layout.PciConfig, Pci);
        Devices.Add(Q35Layout.Ecam, Pci);
        Iommu = Devices.Add(Q35Layout.Iommu, new IntelIommu(Memory, config.Iommu));
        Iommu.EventInterrupt = (address, data) => DeliverInterrupt(InterruptMessage.FromMsi(address, data));
        Devices.AddPci(Q35Layout.HostBridge, Pci, new PciHostBridge());
        Edu = Devices.AddPci(Q35Layout.Edu, Pci, new EduDevice(Clock));
        Edu.ConnectDma(Iommu.ForDevice(Edu.SourceId));
        Edu.MsiSink = (address, data) => DeliverMsi(Edu.SourceId, address, data);
        DmaEngine = Devices.AddPci(Q35Layout.DmaEngine, Pci, new DmaEngine(Clock));
        DmaEngine.ConnectDma(Iommu.ForDevice(DmaEngine.SourceId));
        Iommu.DmaWritten = KhoOracle.NoteDeviceWrite;
        KhoOracle.Iommu = Iommu;
        if (config.SerialInput is not null || config.SerialInputReplay is not null)
            _serialInput = new SerialInputPump(config.SerialInput, Uart, Clock, () => AllHalted, config.SerialInputRecord,
                config.SerialInput is null ? config.SerialInputReplay : null);

        // The memory map: the top KiB of conventional memory and the F-segment reserved, the VGA and option-ROM
        // range absent; the E-segment holds the ACPI tables when the machine boots the kernel itself.
        bool direct = config.Firmware is null;
        Memory.Reserve(Q35Layout.Ebda.Base, Q35Layout.Ebda.Size, E820Type.Reserved);
        Memory.Reserve(Q35Layout.Ebda.End, Q35Layout.BiosArea.Base - Q35Layout.Ebda.End, null);
        Memory.Reserve(Q35Layout.DirectBootAcpiTables.Base, Q35Layout.DirectBootAcpiTables.Size, direct ? E820Type.Acpi : null);
        Memory.Reserve(Q35Layout.FSegment.Base, Q35Layout.FSegment.Size, E820Type.Reserved);

        FwCfg.SetU64(FwCfgKeys.RamSize, Memory.RamSize);
        FwCfg.SetU32(FwCfgKeys.NbCpus, (uint)Cpus.Count);
        FwCfg.SetU32(FwCfgKeys.MaxCpus, (uint)ApicIdLimit);
        foreach (var (name, data) in config.FwCfgFiles) FwCfg.AddFile(name, data);
        if (config.CommandLine.Length > 0)
        {
            var cmd = System.Text.Encoding.ASCII.GetBytes(config.CommandLine + "\0");
            FwCfg.SetU32(FwCfgKeys.CmdlineSize, (uint)cmd.Length);
            FwCfg.SetItem(FwCfgKeys.CmdlineData, cmd);
        }

        if (config.Firmware is { } rom) Memory.LoadRom(rom);
        FwCfg.AddFile("etc/e820", E820Table());

        // ACPI: a firmware runs etc/table-loader itself; for direct boot the machine runs it and the kernel finds the
        // RSDP by scanning the BIOS area or in the boot protocol (AcpiRsdpAddress).
        Acpi = new AcpiTables(Cpus.Select(c => c.InitialApicId).ToArray(), config.Iommu.InterruptRemapping);
        FwCfg.AddFile(AcpiTables.TablesFile, Acpi.Tables);
        FwCfg.AddFile(AcpiTables.RsdpFile, Acpi.Rsdp);
        FwCfg.AddFile(AcpiTables.LoaderFile, Acpi.Loader);
        if (direct) AcpiRsdpAddress = Acpi.InstallDirect(Memory);

        if (config.Firmware is not null)
        {
            if (config.Kernel is { } k) FwCfg.AddFile("opt/khoemu/kernel", k);
            if (config.Initrd is { } rd) FirmwareInitrd.Publish(this, rd);
        }
        else if (config.Kernel is { } kernel)
            DirectBoot.Load(this, kernel, config.CommandLine, config.KernelName, config.Initrd, config.InitrdName);
        else if (config.Initrd is not null) throw new BootException("-initrd only allowed with -kernel option");
        else DemoGuest.Load(this);
    }

    /// <summary>The interrupt line of an ISA device's first IRQ (to the 8259 and the I/O APIC input the board wires).</summary>
    private IsaIrqLine IsaIrq(BoardDevice device) => new(Pic, IoApic, device.IsaIrqs[0]);

    /// <summary>Every device by name, where the layout placed it.</summary>
    public DeviceRegistry Devices { get; }

    /// <summary>The ACPI tables, the RSDP and the table-loader script served in fw_cfg.</summary>
    public AcpiTables Acpi { get; }

    /// <summary>
    /// An interrupt request (an MSI, or an I/O APIC message) from <paramref name="sourceId"/>: a DWORD write to
    /// 0xFEExxxxx goes through the VT-d unit's interrupt remapping (which passes it unchanged while remapping is off)
    /// and then to the local APICs; a blocked request is dropped (the unit recorded the fault). Writes elsewhere would
    /// be memory writes, which no device here aims at.
    /// </summary>
    private void DeliverMsi(ushort sourceId, ulong address, uint data)
    {
        if (!InterruptMessage.IsInterruptAddress(address)) return;
        if (Iommu.RemapInterrupt(sourceId, address, data, out var message)) DeliverInterrupt(message);
    }

    /// <summary>
    /// Hands an interrupt to the local APICs. With one CPU it is every destination: fixed and lowest-priority messages
    /// reach it with their vector and trigger mode (the APIC drops vectors below 16) and SMI, NMI, INIT and ExtINT
    /// messages are dropped. With several, the APIC bus routes the message by its destination and delivery mode.
    /// </summary>
    private void DeliverInterrupt(InterruptMessage message)
    {
        if (Cpus.Count > 1)
            ApicBus.Deliver(new ApicMessage(message.Vector, message.DeliveryMode, message.Logical,
                ApicMessage.XapicDestination((byte)message.Destination), message.Level));
        else if (message.CarriesVector) Apic.Accept(message.Vector, message.Level);
    }

    /// <summary>Guest-physical address of the ACPI RSDP the machine installed for direct boot; 0 when none.</summary>
    public ulong AcpiRsdpAddress { get; internal set; }

    public PciBus Pci { get; }
    public IntelIommu Iommu { get; }
    public EduDevice Edu { get; }
    public DmaEngine DmaEngine { get; }

    /// <summary>The memory map in QEMU's fw_cfg "etc/e820" layout: packed {u64 address; u64 length; u32 type}.</summary>
    private byte[] E820Table()
    {
        var map = Memory.MemoryMap();
        var bytes = new byte[20 * map.Count];
        for (int i = 0; i < map.Count; i++)
        {
            var e = bytes.AsSpan(20 * i);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(e, map[i].Address);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(e[8..], map[i].Length);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(e[16..], (uint)map[i].Type);
        }
        return bytes;
    }

    public MachineConfig Config { get; }
    public PhysicalMemory Memory { get; }
    public PortBus Ports { get; } = new();
    public VirtualClock Clock { get; } = new();
    public Cpu.Cpu Cpu { get; }
    public Pic8259 Pic { get; } = new();
    public Uart16550 Uart { get; }
    public FwCfg FwCfg { get; }
    public Pit8254 Pit { get; }
    public Hpet Hpet { get; }
    public Mc146818Rtc Rtc { get; }
    public Ich9PowerManagement Pm { get; }
    public I8042Controller Keyboard { get; }
    public LocalApic Apic { get; }
    public IoApic IoApic { get; }
    /// <summary>Checks preserved memory across kexec (see <see cref="Machine.KhoOracle"/>).</summary>
    public KhoOracle KhoOracle { get; }

    /// <summary>Power-off or reset by the guest: the run ends at the current instruction boundary.</summary>
    private void RequestExit(ExitKind kind, string why)
    {
        _exitRequest ??= (kind, why);
        StopAll();
    }

    private void OnDebugExit(int code)
    {
        _debugExitCode = code;
        StopAll();
    }

    /// <summary>Runs until the guest exits or stops, or <paramref name="maxInstructions"/> retire (on all processors
    /// together).</summary>
    public MachineExit Run(ulong maxInstructions = ulong.MaxValue)
    {
        var (reason, cpu, why) = Cpus.Count == 1 ? (Cpu.Run(maxInstructions), Cpu, Cpu.Diagnostic) : RunSmp(maxInstructions);
        why ??= cpu.Diagnostic;
        Config.SerialOutput.Flush();
        // The guest is done (not merely paused): the oracle checks the preserved pages nobody touched.
        if (reason is not (StopReason.InstructionLimit or StopReason.Requested) || _debugExitCode is not null || _exitRequest is not null)
            KhoOracle.Finish();
        if (_debugExitCode is int code) return new MachineExit(ExitKind.DebugExit, code, null);
        if (_exitRequest is var (kind, exitWhy))
            return new MachineExit(kind, kind == ExitKind.PowerOff ? MachineExit.CodePowerOff : MachineExit.CodeReset, exitWhy);
        return reason switch
        {
            StopReason.InstructionLimit => new(ExitKind.InstructionLimit, MachineExit.CodeInstructionLimit,
                $"instruction limit reached after {InstructionCount} instructions at RIP={Cpu.InstructionPointer:x16}"),
            StopReason.HaltedForever => new(ExitKind.HaltedForever, MachineExit.CodeHalted, why),
            StopReason.TripleFault => new(ExitKind.TripleFault, MachineExit.CodeTripleFault, why),
            StopReason.Unsupported => new(ExitKind.Unsupported, MachineExit.CodeUnsupported, why),
            _ => new(ExitKind.Stopped, MachineExit.CodeStopped, "stopped by request"),
        };
    }

    public void Dispose() => Memory.Dispose();
}
