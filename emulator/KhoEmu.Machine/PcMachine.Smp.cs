using KhoEmu.Cpu;
using KhoEmu.Cpu.Smp;
using KhoEmu.Devices.Interrupts;

namespace KhoEmu.Machine;

/// <summary>
/// The processors of the machine and how they share one virtual clock (docs/cpu.md, "SMP"). Processor 0 (the BSP)
/// starts at the reset vector or the boot loader's entry; the others (APs) wait for INIT-SIPI-SIPI. With one
/// processor <see cref="Run"/> is the CPU's own run loop, unchanged. With several, the scheduler below runs them in
/// round-robin, <see cref="Quantum"/> instructions each: one instruction on any processor is one nanosecond of the one
/// machine clock, a halted processor gives up its turn without using time, and when every processor is halted the
/// clock jumps to the next timer event. The interleaving depends only on the guest, so runs are reproducible.
/// </summary>
public sealed partial class PcMachine
{
    /// <summary>Instructions a processor runs before the next one gets its turn. An instruction is never split, so a
    /// LOCK'd read-modify-write (and every other instruction) is atomic with respect to the other processors.</summary>
    public const ulong Quantum = 1000;

    private readonly List<LocalApic> _apics = [];
    private int _current;
    private bool _stopAll;
    private ulong _now;
    private int _turn;
    private ulong _quantumUsed;
    private bool _roundProgressed;

    /// <summary>Every processor, by index; <see cref="Cpu"/> is the first.</summary>
    public IReadOnlyList<Cpu.Cpu> Cpus { get; }

    /// <summary>Each processor's local APIC, by processor index; <see cref="Apic"/> is the first.</summary>
    public IReadOnlyList<LocalApic> Apics => _apics;

    /// <summary>Routes IPIs, I/O APIC redirections and (with several processors) MSIs to the local APICs.</summary>
    public ApicBus ApicBus { get; } = new();

    /// <summary>The processor that runs now (the BSP outside <see cref="Run"/>): local APIC accesses go to its APIC.</summary>
    public Cpu.Cpu CurrentCpu => Cpus[_current];

    /// <summary>Instructions retired on all processors since power-on.</summary>
    public ulong InstructionCount
    {
        get
        {
            ulong n = 0;
            foreach (var c in Cpus) n += c.InstructionCount;
            return n;
        }
    }

    /// <summary>True when no processor can run until an interrupt (or a SIPI) arrives.</summary>
    public bool AllHalted => Cpus.All(c => c.Halted || c.WaitingForSipi);

    /// <summary>One more than the highest APIC ID (QEMU's FW_CFG_MAX_CPUS, the APIC ID limit).</summary>
    private int ApicIdLimit => Cpus.Max(c => c.InitialApicId) + 1;

    private List<Cpu.Cpu> CreateProcessors(MachineConfig config)
    {
        var topology = config.Smp;
        var cpus = new List<Cpu.Cpu> { Cpu };
        for (int i = 1; i < topology.Count; i++) cpus.Add(new Cpu.Cpu(Memory, Ports, Clock, config.CpuModel, config.RngSeed));
        for (int i = 0; i < cpus.Count; i++)
        {
            var cpu = cpus[i];
            cpu.ConfigureTopology(topology, i);
            cpu.YieldOnHalt = topology.Count > 1;
            var apic = i == 0 ? Apic : new LocalApic(Clock, $"lapic{i}.timer");
            apic.Id = apic.InitialId = cpu.InitialApicId;
            if (cpu.IsBootstrapProcessor) apic.VirtualWireAtReset();
            cpu.LocalApic = apic;
            _apics.Add(apic);
            ApicBus.Attach(apic, cpu.RaiseNmi, cpu.Init, cpu.StartupIpi);
        }
        return cpus;
    }

    /// <summary>
    /// An NMI on the board's NMI line, which a PC wires to LINT1 of every processor (QEMU's monitor <c>nmi</c>
    /// command, nmi_monitor_handle → apic_deliver_nmi): each local APIC delivers it as its LVT LINT1 entry says (Linux
    /// programs NMI mode on the BSP and masks it on the others), or straight to the processor while globally
    /// disabled (docs/devices.md, "LINT0 and LINT1").
    /// </summary>
    public void InjectNmi() => ApicBus.NmiToAll();

    /// <summary>Stops the run at the next instruction boundary of the processor that runs now (and the scheduler).</summary>
    private void StopAll()
    {
        _stopAll = true;
        CurrentCpu.RequestStop();
    }

    /// <summary>
    /// The round-robin scheduler: returns why it stopped, the processor that stopped it and, for a machine that can
    /// never run again, a diagnostic naming every processor's state.
    /// </summary>
    private (StopReason Reason, Cpu.Cpu Cpu, string? Why) RunSmp(ulong maxInstructions)
    {
        _stopAll = false;
        ulong total = InstructionCount;
        ulong limit = maxInstructions == ulong.MaxValue ? ulong.MaxValue : total + maxInstructions;
        while (true)
        {
            // The scheduler's position (whose turn, how much of its quantum it used, whether anyone progressed this
            // round) survives a return, so a run stopped at instruction N and continued, or restored from a snapshot
            // taken there, interleaves the processors exactly as a run that never stopped.
            for (; _turn < Cpus.Count; _turn++, _quantumUsed = 0)
            {
                if (_stopAll) return (StopReason.Requested, CurrentCpu, null);
                if (total >= limit) return (StopReason.InstructionLimit, CurrentCpu, null);
                var cpu = Cpus[_turn];
                _current = _turn;
                if (_quantumUsed == 0) cpu.SyncVirtualTime(_now);
                ulong before = cpu.InstructionCount;
                var reason = cpu.Run(Math.Min(Quantum - _quantumUsed, limit - total));
                ulong ran = cpu.InstructionCount - before;
                total += ran;
                _quantumUsed += ran;
                _now = Math.Max(_now, cpu.VirtualTime);
                _roundProgressed |= ran != 0 || reason != StopReason.Halted;
                switch (reason)
                {
                    case StopReason.Halted: break;
                    case StopReason.InstructionLimit:
                        if (_quantumUsed < Quantum) return (reason, cpu, null); // the run's limit, mid-quantum
                        break;
                    case StopReason.Requested: return (reason, cpu, null);
                    default: return (reason, cpu, $"CPU {_turn}: {cpu.Diagnostic}");
                }
            }
            _turn = 0;
            _current = 0;
            if (_roundProgressed)
            {
                _roundProgressed = false;
                continue;
            }

            // Every processor is halted or waits for a SIPI: only a timer event can wake one, through an interrupt.
            ulong next = Clock.NextDeadline;
            if (next == ulong.MaxValue || !Cpus.Any(c => c.WakesOnInterrupt))
                return (StopReason.HaltedForever, Cpu, "every processor is halted and nothing can wake one: " + string.Join("; ",
                    Cpus.Select((c, i) => $"CPU {i} " + (c.WaitingForSipi ? "waits for a SIPI"
                        : $"HLT at RIP={c.InstructionPointer:x16} with interrupts {(c.WakesOnInterrupt ? "enabled" : "disabled")}")))
                    + (next == ulong.MaxValue ? "; no timer or device event pending" : ""));
            _now = Math.Max(_now, next);
            Clock.AdvanceTo(_now);
        }
    }
}
