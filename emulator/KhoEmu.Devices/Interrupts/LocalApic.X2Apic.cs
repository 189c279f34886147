namespace KhoEmu.Devices.Interrupts;

/// <summary>
/// The local APIC's operating modes as IA32_APIC_BASE selects them (Intel SDM vol. 3, 11.4.3 and 11.12.5): globally
/// disabled (EN = 0), xAPIC (EN = 1, EXTD = 0; registers in the MMIO page) and x2APIC (EN = 1, EXTD = 1; registers as
/// MSRs 800H-8FFH, 11.12.1). The processor checks the transitions (Cpu.ApicBase.cs); this side applies them.
/// </summary>
public sealed partial class LocalApic
{
    /// <summary>The x2APIC MSR range (SDM vol. 3, table 11-6 / 12-6).</summary>
    public const uint X2ApicMsrFirst = 0x800, X2ApicMsrLast = 0x8FF;

    private bool _x2apic, _globallyDisabled;

    /// <summary>The initial APIC ID the board gives the processor; in x2APIC mode it is the 32-bit x2APIC ID (11.12.5.1:
    /// the APIC ID register then reads the initial APIC ID and cannot be written).</summary>
    public int InitialId { get; set; }

    /// <summary>True in x2APIC mode (IA32_APIC_BASE.EXTD).</summary>
    public bool X2ApicMode => _x2apic;

    /// <summary>True while IA32_APIC_BASE.EN is clear: the APIC takes no interrupts and its pins are the processor's own
    /// INTR and NMI inputs (11.4.3).</summary>
    public bool GloballyDisabled => _globallyDisabled;

    /// <summary>The MMIO page answers only in xAPIC mode; globally disabled or in x2APIC mode an access behaves as if no
    /// APIC were there (11.12.1.2: reads as unassigned space, all ones; writes dropped).</summary>
    private bool MmioEnabled => !_x2apic && !_globallyDisabled;

    /// <summary>The ID that physical destinations are compared with: the x2APIC ID (32 bits) in x2APIC mode, the 8-bit
    /// APIC ID register otherwise.</summary>
    public uint PhysicalId => _x2apic ? (uint)InitialId : (uint)Id & 0xFF;

    /// <summary>The x2APIC logical ID (11.12.10.2): cluster ID = x2APIC ID bits 19:4 in bits 31:16, and one bit,
    /// 1 &lt;&lt; x2APIC ID bits 3:0, in bits 15:0.</summary>
    private uint X2ApicLogicalId => (((uint)InitialId >> 4) << 16) | (1u << (InitialId & 0xF));

    /// <summary>
    /// IA32_APIC_BASE's EN and EXTD after a write the processor accepted. Clearing EN puts the APIC back in its
    /// power-up state with the initial APIC ID and leaves it unable to take interrupts until EN is set again
    /// (11.4.3; x2APIC → disabled, 11.12.5.1); setting EXTD from xAPIC mode keeps the registers, makes the ID the
    /// x2APIC ID and derives the read-only LDR from it. The DFR has no meaning in x2APIC mode.
    /// </summary>
    public void SetMode(bool enabled, bool x2apic)
    {
        if (!enabled)
        {
            _x2apic = false;
            if (!_globallyDisabled) PowerUpState();
            _globallyDisabled = true;
            return;
        }
        if (_globallyDisabled)
        {
            _globallyDisabled = false;
            PowerUpState();
        }
        if (x2apic && !_x2apic)
        {
            _x2apic = true;
            _ldr = X2ApicLogicalId;
        }
    }

    private void PowerUpState()
    {
        _x2apic = false;
        ResetForInit();
        Id = InitialId;
    }

    /// <summary>
    /// RDMSR of an x2APIC register (11.12.1.2, table 11-6): false (the processor raises #GP) outside x2APIC mode, for
    /// a reserved address, and for the write-only EOI and SELF IPI registers. The ICR is one 64-bit register with the
    /// destination in bits 63:32; the APIC ID reads the x2APIC ID; there is no DFR (80EH) and no CMCI entry (82FH:
    /// the version register says the last LVT entry is the error entry).
    /// </summary>
    public bool TryReadMsr(uint msr, out ulong value)
    {
        value = 0;
        if (!_x2apic || msr < X2ApicMsrFirst || msr > X2ApicMsrLast) return false;
        uint reg = (msr - X2ApicMsrFirst) << 4;
        switch (reg)
        {
            case 0x020: value = (uint)InitialId; return true;
            case 0x0A0: value = Ppr; return true;
            case 0x300: value = ((ulong)_icrHigh << 32) | _icrLow; return true;
            case 0x030 or 0x080 or 0x0D0 or 0x0F0 or 0x280 or 0x320 or 0x330 or 0x340 or 0x350 or 0x360 or 0x370
                or 0x380 or 0x390 or 0x3E0:
            case >= 0x100 and < 0x280:
                value = ReadRegister(reg);
                return true;
            default: return false;
        }
    }

    /// <summary>
    /// WRMSR of an x2APIC register (11.12.1.2-3): false (#GP) outside x2APIC mode, for reserved and read-only
    /// registers (ID, version, PPR, LDR, ISR/TMR/IRR, current count), for bits 63:32 set in a 32-bit register, for a
    /// non-zero EOI or ESR write, and for a SELF IPI with bits 31:8 set. An ICR write sends the IPI at once, to the
    /// 32-bit destination in bits 63:32; SELF IPI (83FH) is a fixed, edge-triggered IPI to this APIC (11.12.11).
    /// </summary>
    public bool TryWriteMsr(uint msr, ulong value)
    {
        if (!_x2apic || msr < X2ApicMsrFirst || msr > X2ApicMsrLast) return false;
        uint reg = (msr - X2ApicMsrFirst) << 4;
        if (reg != 0x300 && (value >> 32) != 0) return false;
        uint v = (uint)value;
        switch (reg)
        {
            case 0x080: if (v > 0xFF) return false; _tpr = v; return true;
            case 0x0B0: if (v != 0) return false; EndOfInterrupt(); return true;
            case 0x0F0: if ((v & ~0x3FFu) != 0) return false; WriteSvr(v); return true;
            case 0x280: if (v != 0) return false; _esr = 0; return true;
            case 0x300:
                _icrLow = v & 0x000C_CFFF;
                _icrHigh = (uint)(value >> 32);
                if (IpiSink is { } sink) sink(this, _icrLow, _icrHigh);
                else SendIpi(_icrLow);
                return true;
            case 0x3F0:
                if (v > 0xFF) return false;
                if (IpiSink is { } self) self(this, 0x4_0000 | v, 0); // shorthand self, fixed, edge
                else Accept((int)v);
                return true;
            case 0x320 or 0x330 or 0x340 or 0x350 or 0x360 or 0x370 or 0x380 or 0x3E0:
                WriteCommon(reg, v);
                return true;
            default: return false;
        }
    }

    /// <summary>The processor priority (11.8.3.1): the TPR or the class of the highest in-service vector, whichever
    /// is higher.</summary>
    private uint Ppr
    {
        get
        {
            int isr = Highest(_isr);
            uint isrClass = isr < 0 ? 0 : (uint)isr & 0xF0;
            return (_tpr & 0xF0) >= isrClass ? _tpr : isrClass;
        }
    }

    /// <summary>Writes the spurious-interrupt vector register (11.9): clearing the software enable (bit 8) sets every
    /// LVT mask bit (11.4.7.2).</summary>
    private void WriteSvr(uint v)
    {
        _svr = v & 0x3FF;
        if (SoftwareEnabled) return;
        _lvtTimer |= 0x10000;
        _lvtThermal |= 0x10000;
        _lvtPerf |= 0x10000;
        _lvtLint0 |= 0x10000;
        _lvtLint1 |= 0x10000;
        _lvtError |= 0x10000;
    }
}
