using KhoEmu.Core;
using KhoEmu.Cpu;
using KhoEmu.Devices.DebugExit;
using KhoEmu.Devices.FwCfg;
using KhoEmu.Devices.Interrupts;
using KhoEmu.Devices.Timers;
using KhoEmu.Devices.Uart16550;
using KhoEmu.Devices.Pci;
using KhoEmu.Devices.Iommu;
using KhoEmu.Machine.Boot;
using KhoEmu.Memory;

namespace KhoEmu.Machine;

/// <summary>
/// The virtual PC: RAM and the memory map, the port and MMIO buses, one CPU, and the QEMU-compatible devices at their
/// usual addresses. Nothing is static, so several machines run side by side in one process.
/// </summary>
public sealed class PcMachine : IDisposable
{
    private int? _debugExitCode;

    public PcMachine(MachineConfig config)
    {
        Config = config;
        Memory = new PhysicalMemory(config.MemorySize);
        Cpu = new Cpu.Cpu(Memory, Ports, Clock);
        Pic.Register(Ports);
        Apic = new LocalApic(Clock);
        Memory.Mmio.Register(LocalApic.DefaultBase, 0x1000, Apic, "local-apic");
        IoApic = new IoApic(Apic.Accept);
        Memory.Mmio.Register(IoApic.DefaultBase, 0x1000, IoApic, "ioapic");
        Apic.EoiBroadcast = IoApic.EndOfInterrupt;
        Uart = new Uart16550(config.SerialOutput, new IsaIrqLine(Pic, IoApic, 4));
        Ports.Register(0x3F8, 8, Uart, "uart-com1");
        Ports.Register(0xF4, 4, new DebugExit(OnDebugExit), "isa-debug-exit");
        FwCfg = new FwCfg(Memory);
        Ports.Register(0x510, 12, FwCfg, "fw_cfg");
        KhoOracle = new KhoOracle(Memory, () => Cpu.InstructionCount, () => Cpu.RequestStop());
        Ports.Register(KhoOracle.Port, 4, KhoOracle, "kho-oracle");
        Pit = new Pit8254(Clock, new IsaIrqLine(Pic, IoApic, 0));
        Ports.Register(0x40, 4, Pit, "pit");
        Cpu.Interrupts = new InterruptRouter(Apic, Pic);

        // PCI (CF8/CFC and ECAM), the VT-d IOMMU and the DMA-capable devices behind it.
        Pci = new PciBus(Memory.Mmio) { InterruptSink = IoApic.SetIrq };
        Ports.Register(0xCF8, 8, Pci, "pci-conf1");
        Memory.Mmio.Register(PciBus.EcamBase, PciBus.EcamSize, Pci, "pci-ecam");
        Iommu = new IntelIommu(Memory);
        Memory.Mmio.Register(IntelIommu.DefaultBase, IntelIommu.Size, Iommu, "intel-iommu");
        Pci.Plug(0, 0, new PciHostBridge());
        Edu = new EduDevice(Clock);
        Pci.Plug(1, 0, Edu);
        Edu.ConnectDma(Iommu.ForDevice(Edu.SourceId));
        Edu.MsiSink = DeliverMsi;
        DmaEngine = new DmaEngine(Clock);
        Pci.Plug(2, 0, DmaEngine);
        DmaEngine.ConnectDma(Iommu.ForDevice(DmaEngine.SourceId));
        Iommu.DmaWritten = KhoOracle.NoteDeviceWrite;
        KhoOracle.Iommu = Iommu;
        if (config.SerialInput is { } input) _ = new SerialInputPump(input, Uart, Clock, () => Cpu.Halted);

        FwCfg.SetU64(FwCfgKeys.RamSize, Memory.RamSize);
        FwCfg.SetU32(FwCfgKeys.NbCpus, 1);
        foreach (var (name, data) in config.FwCfgFiles) FwCfg.AddFile(name, data);
        if (config.CommandLine.Length > 0)
        {
            var cmd = System.Text.Encoding.ASCII.GetBytes(config.CommandLine + "\0");
            FwCfg.SetU32(FwCfgKeys.CmdlineSize, (uint)cmd.Length);
            FwCfg.SetItem(FwCfgKeys.CmdlineData, cmd);
        }

        if (config.Firmware is { } rom) Memory.LoadRom(rom);
        FwCfg.AddFile("etc/e820", E820Table());
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

    /// <summary>MSI: a write to 0xFEExxxxx with the vector in the low data byte goes to the local APIC.</summary>
    private void DeliverMsi(ulong address, uint data)
    {
        if ((address & 0xFFF0_0000) == 0xFEE0_0000) Apic.Accept((int)(data & 0xFF));
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
    public LocalApic Apic { get; }
    public IoApic IoApic { get; }
    /// <summary>Checks preserved memory across kexec (see <see cref="Machine.KhoOracle"/>).</summary>
    public KhoOracle KhoOracle { get; }

    private void OnDebugExit(int code)
    {
        _debugExitCode = code;
        Cpu.RequestStop();
    }

    /// <summary>Runs until the guest exits or stops, or <paramref name="maxInstructions"/> retire.</summary>
    public MachineExit Run(ulong maxInstructions = ulong.MaxValue)
    {
        var reason = Cpu.Run(maxInstructions);
        Config.SerialOutput.Flush();
        if (_debugExitCode is int code) return new MachineExit(ExitKind.DebugExit, code, null);
        return reason switch
        {
            StopReason.InstructionLimit => new(ExitKind.InstructionLimit, MachineExit.CodeInstructionLimit,
                $"instruction limit reached after {Cpu.InstructionCount} instructions at RIP={Cpu.InstructionPointer:x16}"),
            StopReason.HaltedForever => new(ExitKind.HaltedForever, MachineExit.CodeHalted, Cpu.Diagnostic),
            StopReason.TripleFault => new(ExitKind.TripleFault, MachineExit.CodeTripleFault, Cpu.Diagnostic),
            StopReason.Unsupported => new(ExitKind.Unsupported, MachineExit.CodeUnsupported, Cpu.Diagnostic),
            _ => new(ExitKind.Stopped, MachineExit.CodeStopped, "stopped by request"),
        };
    }

    public void Dispose() => Memory.Dispose();
}
