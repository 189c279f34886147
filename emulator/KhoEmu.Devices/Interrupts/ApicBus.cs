namespace KhoEmu.Devices.Interrupts;

/// <summary>
/// The machine's local APICs and the processors behind them: routes IPIs written to an ICR and interrupt messages from
/// the I/O APIC and MSIs to the APICs their destination names (SDM vol. 3, 11.6): physical (APIC ID, 0xFF broadcast)
/// or logical (<see cref="LocalApic.MatchesLogical"/>), or an ICR shorthand (self, all including self, all excluding
/// self). Destinations are 32 bits: an APIC in x2APIC mode compares its x2APIC ID and its cluster-model logical ID
/// (11.12.10), one in xAPIC mode its 8-bit ID and LDR; the broadcast FFFF_FFFFH (and xAPIC's 0xFF, carried as it)
/// reaches all. A globally disabled APIC (IA32_APIC_BASE.EN = 0) takes nothing. Fixed vectors enter the IRR; lowest-priority delivery goes to the matching APIC with the lowest index (a
/// fixed, deterministic choice, as the SDM leaves the arbitration to the model); NMI, INIT and start-up reach the
/// processor. SMI is dropped (no SMM) and the INIT level de-assert only synchronises arbitration IDs on old parts,
/// so it does nothing.
/// </summary>
public sealed class ApicBus
{
    private readonly List<Processor> _processors = [];

    private sealed record Processor(LocalApic Apic, Action Nmi, Action Init, Action<int> Startup);

    /// <summary>Connects <paramref name="apic"/> and its processor's NMI, INIT and start-up inputs.</summary>
    public void Attach(LocalApic apic, Action nmi, Action init, Action<int> startup)
    {
        _processors.Add(new Processor(apic, nmi, init, startup));
        apic.IpiSink = SendIpi;
        apic.NmiSink = nmi;
    }

    public int Count => _processors.Count;

    /// <summary>IPIs sent through the ICRs so far.</summary>
    public long IpisSent { get; private set; }

    /// <summary>An ICR write on <paramref name="source"/>: ICR bits 31:0 and the destination (x2APIC: ICR bits 63:32;
    /// xAPIC: ICR bits 63:56, 0xFF given as <see cref="ApicMessage.Broadcast"/>).</summary>
    public void SendIpi(LocalApic source, uint icrLow, uint destination)
    {
        IpisSent++;
        var message = new ApicMessage((int)(icrLow & 0xFF), (int)((icrLow >> 8) & 7), (icrLow & 0x800) != 0,
            destination, (icrLow & 0x8000) != 0);
        // INIT level de-assert (delivery mode INIT, level 0, trigger level): no processor is reset.
        if (message.DeliveryMode == ApicMessage.Init && (icrLow & 0x4000) == 0 && message.Level) return;
        switch ((icrLow >> 18) & 3)
        {
            case 0: Deliver(message); break;
            case 1: DeliverTo(Find(source), message); break;
            case 2: foreach (var p in _processors) DeliverTo(p, message); break;
            default: foreach (var p in _processors) if (p.Apic != source) DeliverTo(p, message); break;
        }
    }

    /// <summary>Delivers a message by its destination (I/O APIC, MSI, an IPI without shorthand).</summary>
    public void Deliver(ApicMessage message)
    {
        foreach (var p in _processors)
        {
            if (!Matches(p.Apic, message)) continue;
            DeliverTo(p, message);
            if (message.DeliveryMode == ApicMessage.LowestPriority) return;
        }
    }

    private static bool Matches(LocalApic apic, ApicMessage m) =>
        m.Logical ? apic.MatchesLogical(m.Destination) : m.Destination == ApicMessage.Broadcast || apic.PhysicalId == m.Destination;

    /// <summary>Sends an edge on every processor's LINT1: the board's NMI line (QEMU's monitor <c>nmi</c> command).</summary>
    public void NmiToAll()
    {
        foreach (var p in _processors) p.Apic.RaiseLint1();
    }

    private Processor Find(LocalApic apic)
    {
        foreach (var p in _processors) if (p.Apic == apic) return p;
        throw new InvalidOperationException("an IPI from a local APIC that is not on the bus");
    }

    private static void DeliverTo(Processor p, ApicMessage m)
    {
        if (p.Apic.GloballyDisabled) return;
        switch (m.DeliveryMode)
        {
            case ApicMessage.Fixed or ApicMessage.LowestPriority: p.Apic.Accept(m.Vector, m.Level); break;
            case ApicMessage.Nmi: p.Nmi(); break;
            case ApicMessage.Init:
                p.Apic.ResetForInit();
                p.Init();
                break;
            case ApicMessage.Startup: p.Startup(m.Vector); break;
        }
    }
}
