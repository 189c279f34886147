using KhoEmu.Devices.State;

namespace KhoEmu.Devices.Iommu;

public sealed partial class IntelIommu
{
    private const uint GstsBits = GcmdTe | GcmdSrtp | GcmdQie | GcmdIre | GcmdSirtp | GcmdCfi;

    public IntelIommuState SaveState() => new(Options.InterruptRemapping,
        _gsts, _rtaddr, _rootTable, _iva, _iotlbReg, _ccmd,
        _iqa, _iqBase, _iqEntries, _iqHead, _iqTail, _iqt, _iqercd,
        _irta, _irtBase, _irtEntries,
        _fsts, _fectl, _fedata, _feaddr, _feuaddr, _ics, _iectl, _iedata, _ieaddr, _ieuaddr,
        _frcdLow, _frcdHigh,
        new IntelIommuCounters(FaultCount, FaultEvents, CompletionEvents, DescriptorsProcessed, QueueErrors,
            IgnoredRegisterInvalidations, InterruptsRemapped, InterruptsBlocked, BlockedBytes));

    public void ValidateState(IntelIommuState s)
    {
        const string dev = "vtd";
        StateCheck.That(dev, s.InterruptRemapping == Options.InterruptRemapping,
            $"snapshot has interrupt remapping {(s.InterruptRemapping ? "on" : "off")}, this machine {(Options.InterruptRemapping ? "on" : "off")}");
        StateCheck.That(dev, s.Counters is not null, "counters missing");
        StateCheck.Bits(dev, "GSTS", s.Gsts, Options.InterruptRemapping ? GstsBits : GcmdTe | GcmdSrtp | GcmdQie);
        StateCheck.Bits(dev, "FSTS", s.Fsts, FstsPfo | FstsPpf | FstsIqe);
        StateCheck.Bits(dev, "FECTL", s.Fectl, EventMask | EventPending);
        StateCheck.Bits(dev, "IECTL", s.Iectl, EventMask | EventPending);
        StateCheck.Bits(dev, "ICS", s.Ics, 1);
        StateCheck.Bits(dev, "IQA", s.Iqa, 0xFFFF_FFFF_FFFF_F007);
        StateCheck.Bits(dev, "IQT", s.Iqt, 0x7FFF0);
        StateCheck.Range(dev, "queue tail", s.IqTail, 0, 0x7FFF);
        // The queue's size and the table's were latched when enabled (QIE, SIRTP): 2^(QS+8) and 2^(S+1) entries.
        if ((s.Gsts & GcmdQie) != 0)
        {
            StateCheck.That(dev, IsPowerOfTwo(s.IqEntries, 256, 1 << 15), $"queue size {s.IqEntries} is not 2^(QS+8)");
            StateCheck.Range(dev, "queue head", s.IqHead, 0, s.IqEntries - 1);
        }
        else StateCheck.Range(dev, "queue head", s.IqHead, 0, 0);   // disabling the queue clears IQH
        StateCheck.That(dev, s.IqEntries == 0 || IsPowerOfTwo(s.IqEntries, 256, 1 << 15), $"queue size {s.IqEntries} is not 2^(QS+8)");
        StateCheck.That(dev, s.IrtEntries == 0 || IsPowerOfTwo(s.IrtEntries, 2, 1 << 16), $"interrupt remapping table size {s.IrtEntries} is not 2^(S+1)");
        if (!Options.InterruptRemapping) StateCheck.That(dev, s.Irta == 0, "IRTA set without interrupt remapping");
    }

    private static bool IsPowerOfTwo(int n, int min, int max) => n >= min && n <= max && (n & (n - 1)) == 0;

    /// <summary>Loads the registers; the context cache, IOTLB and interrupt entry cache start empty.</summary>
    public void LoadState(IntelIommuState s)
    {
        (_gsts, _rtaddr, _rootTable, _iva, _iotlbReg, _ccmd) = (s.Gsts, s.Rtaddr, s.RootTable, s.Iva, s.IotlbReg, s.Ccmd);
        (_iqa, _iqBase, _iqEntries, _iqHead, _iqTail, _iqt, _iqercd) = (s.Iqa, s.IqBase, s.IqEntries, s.IqHead, s.IqTail, s.Iqt, s.Iqercd);
        (_irta, _irtBase, _irtEntries) = (s.Irta, s.IrtBase, s.IrtEntries);
        (_fsts, _fectl, _fedata, _feaddr, _feuaddr) = (s.Fsts, s.Fectl, s.Fedata, s.Feaddr, s.Feuaddr);
        (_ics, _iectl, _iedata, _ieaddr, _ieuaddr) = (s.Ics, s.Iectl, s.Iedata, s.Ieaddr, s.Ieuaddr);
        (_frcdLow, _frcdHigh) = (s.FrcdLow, s.FrcdHigh);
        var c = s.Counters;
        (FaultCount, FaultEvents, CompletionEvents, DescriptorsProcessed, QueueErrors) = (c.Faults, c.FaultEvents, c.CompletionEvents, c.Descriptors, c.QueueErrors);
        (IgnoredRegisterInvalidations, InterruptsRemapped, InterruptsBlocked, BlockedBytes) = (c.IgnoredRegisterInvalidations, c.InterruptsRemapped, c.InterruptsBlocked, c.BlockedBytes);
        _contexts.Clear();
        _iotlb.Clear();
        _interruptEntries.Clear();
        IotlbHits = IotlbMisses = 0;
    }
}
