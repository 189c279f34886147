using KhoEmu.Cpu.Smp;
using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu;

/// <summary>
/// One processor of several: its place in the topology (index, initial APIC ID, the CPUID fields that describe it),
/// the INIT / wait-for-SIPI / start-up states (Intel SDM vol. 3, 9.4 and 11.6.1), NMI delivery with NMI blocking until
/// the next IRET (SDM vol. 3, 6.7.1), and the hooks the machine's round-robin scheduler uses (docs/cpu.md, "SMP").
/// </summary>
public sealed partial class Cpu
{
    private ref bool _waitForSipi => ref _s.WaitForSipi;
    private ref bool _nmiPending => ref _s.NmiPending; // NMI blocking (_nmiBlocked) is shared with the local APIC's NMI path in Cpu.Execution

    /// <summary>The processor's index in the machine; 0 is the bootstrap processor.</summary>
    public int ProcessorIndex { get; private set; }

    /// <summary>The machine's topology; CPUID describes it.</summary>
    public CpuTopology Topology { get; private set; } = CpuTopology.Single;

    /// <summary>The initial APIC ID (CPUID.1:EBX[31:24], CPUID.0BH:EDX) the board gives this processor.</summary>
    public int InitialApicId { get; private set; }

    /// <summary>True for the processor that runs the firmware after reset (IA32_APIC_BASE.BSP, SDM vol. 3, 9.4.1).</summary>
    public bool IsBootstrapProcessor => ProcessorIndex == 0;

    /// <summary>
    /// Places the processor in <paramref name="topology"/> as processor <paramref name="index"/>. An application
    /// processor (index &gt; 0) then waits for a start-up IPI, as after the multiprocessor initialization protocol's
    /// INIT (SDM vol. 3, 9.4.3).
    /// </summary>
    public void ConfigureTopology(CpuTopology topology, int index)
    {
        if (index < 0 || index >= topology.Count) throw new ArgumentOutOfRangeException(nameof(index));
        Topology = topology;
        ProcessorIndex = index;
        InitialApicId = topology.ApicId(index);
        _msrs.ApicBase = ApicBaseAtReset;
        _waitForSipi = !IsBootstrapProcessor;
    }

    /// <summary>IA32_APIC_BASE after reset: 0xFEE00000, global enable, and the BSP flag on the bootstrap processor.</summary>
    private ulong ApicBaseAtReset => 0xFEE0_0800UL | (IsBootstrapProcessor ? 0x100UL : 0);

    /// <summary>
    /// When set (machines with more than one processor), <see cref="Run"/> returns <see cref="StopReason.Halted"/>
    /// instead of moving virtual time on while this processor is halted or waits for a SIPI: the other processors
    /// run and the machine decides how time advances. Unset, a halted processor skips to the next timer event.
    /// </summary>
    public bool YieldOnHalt { get; set; }

    /// <summary>True while the processor is in the wait-for-SIPI state (after INIT, or an AP after power-on).</summary>
    public bool WaitingForSipi => _waitForSipi;

    /// <summary>True when a maskable interrupt could end this processor's HLT (halted, IF set, not waiting for SIPI).</summary>
    public bool WakesOnInterrupt => _halted && IF && !_waitForSipi;

    /// <summary>
    /// INIT (an INIT IPI, SDM vol. 3, 9.1 and 11.6.1): the processor state as after reset. The bootstrap processor then
    /// runs from the reset vector; an application processor waits for a start-up IPI. A pending NMI is dropped.
    /// </summary>
    public void Init()
    {
        Reset();
        _nmiPending = _nmiBlocked = false;
        _waitForSipi = !IsBootstrapProcessor;
        _exitBlock = true;
    }

    /// <summary>
    /// A start-up IPI with vector <paramref name="vector"/>: a processor in the wait-for-SIPI state starts in real mode
    /// at <c>vector:0000</c>, physical <c>vector &lt;&lt; 12</c> (SDM vol. 3, 9.4.4.1 and 11.6.1). Ignored otherwise,
    /// so the protocol's second SIPI does nothing to a processor the first one started.
    /// </summary>
    public void StartupIpi(int vector)
    {
        if (!_waitForSipi) return;
        _waitForSipi = false;
        _halted = false;
        Seg[SegReg.CS] = new SegmentCache
        {
            Selector = (ushort)((vector & 0xFF) << 8), Base = (ulong)(vector & 0xFF) << 12, Limit = 0xFFFF, Attributes = 0x9B,
        };
        Rip = 0;
        UpdateMode();
        _exitBlock = true;
    }

    /// <summary>An NMI arrives (NMI IPI, LINT1): it is taken at the next instruction boundary unless an NMI handler is
    /// still running (blocked until IRET). Held while the processor waits for a SIPI.</summary>
    public void RaiseNmi()
    {
        _nmiPending = true;
        _exitBlock = true;
    }

    /// <summary>True while an NMI waits to be delivered.</summary>
    public bool NmiPending => _nmiPending;

    /// <summary>IRET ends NMI blocking (SDM vol. 3, 6.7.1).</summary>
    internal void EndNmiBlocking() => _nmiBlocked = false;

    /// <summary>Delivers a pending NMI through IDT vector 2 when not blocked; true when one was delivered.</summary>
    private bool TryDeliverNmi()
    {
        if (!_nmiPending || _nmiBlocked || _shadow != 0) return false;
        _nmiPending = false;
        _nmiBlocked = true;
        _halted = false;
        _insnStart = Rip;
        DeliverEvent(Vector.NMI, EventKind.External, 0);
        return true;
    }

    /// <summary>
    /// Sets the processor's view of virtual time to the machine's (<paramref name="now"/>) before it runs a quantum:
    /// the scheduler keeps one clock for all processors and each one's time-stamp counter reads it.
    /// </summary>
    public void SyncVirtualTime(ulong now)
    {
        if (now >= InstructionCount) _idleTime = now - InstructionCount;
    }

    /// <summary>
    /// The CPUID fields that describe this processor and the topology (SDM vol. 2A, CPUID leaves 01H, 04H, 0BH; AMD APM
    /// vol. 3, E.4.7 leaf 8000_0008H): initial APIC ID, logical processors per package (and HTT), cores and sharing
    /// of the caches, the x2APIC topology levels and ID. A single processor keeps the model's own values.
    /// </summary>
    private void ApplyTopology(uint leaf, uint subleaf, ref (uint Eax, uint Ebx, uint Ecx, uint Edx) r)
    {
        var t = Topology;
        if (t.Count == 1 && InitialApicId == 0) return;
        uint perPackage = (uint)(t.Cores * t.Threads);
        uint id = (uint)InitialApicId;
        switch (leaf)
        {
            case 1:
                r.Ebx = (r.Ebx & 0xFFFF) | (id << 24) | (perPackage << 16);
                if (perPackage > 1) r.Edx |= 1u << 28; // HTT: the package has more than one logical processor
                break;
            case 4 when Model.IsIntel && (r.Eax & 0x1F) != 0:
                uint sharing = (r.Eax >> 5 & 7) == 3 ? (1u << t.PackageShift) - 1 : (1u << t.ThreadBits) - 1;
                r.Eax = (r.Eax & 0x3FFF) | (((1u << t.CoreBits) - 1) << 26) | (sharing << 14);
                break;
            case 0xB when Model.IsIntel:
                r = subleaf switch
                {
                    0 => ((uint)t.ThreadBits, (uint)t.Threads, 0x100u, id),
                    1 => ((uint)t.PackageShift, perPackage, 0x200u | 1, id),
                    _ => (0u, 0u, subleaf & 0xFF, id),
                };
                break;
            case 0x8000_0008 when !Model.IsIntel:
                r.Ecx = ((uint)t.PackageShift << 12) | (perPackage - 1);
                break;
        }
    }
}
