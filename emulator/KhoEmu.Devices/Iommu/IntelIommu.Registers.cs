namespace KhoEmu.Devices.Iommu;

/// <summary>The register file (VT-d ch. 11, offsets as QEMU's intel-iommu): 32-bit registers, and 64-bit ones that
/// may also be accessed as two DWORDs (the command registers act when their upper half, or all 64 bits, is written).</summary>
public sealed partial class IntelIommu
{
    private ulong _iqt;

    public ulong ReadMmio(ulong offset, int size)
    {
        ulong v;
        if (IsQword(offset & ~7UL) && (offset & 7) == 4) v = Qword(offset & ~7UL) >> 32;
        else if (IsQword(offset)) v = Qword(offset);
        else v = offset switch
        {
            0x00 => Version,
            0x1C => _gsts,
            0x34 => _fsts,
            0x38 => _fectl,
            0x3C => _fedata,
            0x40 => _feaddr,
            0x44 => _feuaddr,
            0x9C => _ics,
            0xA0 => _iectl,
            0xA4 => _iedata,
            0xA8 => _ieaddr,
            0xAC => _ieuaddr,
            _ => 0,
        };
        return size == 8 ? v : v & ((1UL << (8 * size)) - 1);
    }

    private static bool IsQword(ulong offset) => offset is 0x08 or 0x10 or 0x20 or 0x28 or 0x80 or 0x88 or 0x90 or 0xB0 or 0xB8
        or 0xF0 or 0xF8 or FaultRecordOffset or FaultRecordOffset + 8;

    private ulong Qword(ulong offset) => offset switch
    {
        0x08 => Capability,
        0x10 => ExtendedCapability,
        0x20 => _rtaddr,
        0x28 => _ccmd,
        0x80 => (ulong)_iqHead << 4,
        0x88 => _iqt,
        0x90 => _iqa,
        0xB0 => _iqercd,
        0xB8 => Options.InterruptRemapping ? _irta : 0,
        0xF0 => _iva,
        0xF8 => _iotlbReg,
        FaultRecordOffset => _frcdLow,
        _ => _frcdHigh,
    };

    /// <summary>A 64-bit register after a write of <paramref name="size"/> bytes at <paramref name="offset"/> (a low or
    /// high DWORD, or all of it).</summary>
    private static ulong Merge(ulong old, ulong offset, int size, ulong value) =>
        size == 8 ? value : (offset & 4) != 0 ? (old & 0xFFFF_FFFF) | (value << 32) : (old & ~0xFFFF_FFFFUL) | (uint)value;

    public void WriteMmio(ulong offset, int size, ulong value)
    {
        ulong reg = offset & ~7UL;
        bool upperOrAll = size == 8 || (offset & 4) != 0;
        if (IsQword(reg) && (size == 8 || (offset & 3) == 0))
        {
            switch (reg)
            {
                case 0x20: _rtaddr = Merge(_rtaddr, offset, size, value); break;
                case 0x28:
                    _ccmd = Merge(_ccmd, offset, size, value);
                    if (upperOrAll) ContextCommand();
                    break;
                case 0x88:
                    _iqt = Merge(_iqt, offset, size, value) & 0x7FFF0;
                    if ((offset & 4) == 0) WriteTail(_iqt);
                    break;
                case 0x90: _iqa = Merge(_iqa, offset, size, value) & 0xFFFF_FFFF_FFFF_F007; break;   // DW (bit 11) reserved
                case 0xB8:
                    if (Options.InterruptRemapping) _irta = Merge(_irta, offset, size, value) & 0xFFFF_FFFF_FFFF_F00F;   // EIME reserved
                    break;
                case 0xF0: _iva = Merge(_iva, offset, size, value); break;
                case 0xF8:
                    _iotlbReg = Merge(_iotlbReg, offset, size, value);
                    if (upperOrAll) IotlbCommand();
                    break;
                case FaultRecordOffset + 8:
                    // F (bit 127) is write-1-to-clear, in the upper DWORD or a full 64-bit write.
                    if (upperOrAll && ((size == 8 ? value >> 63 : value >> 31) & 1) != 0) ClearFaultRecord();
                    break;
            }
            return;
        }
        uint v = (uint)value;
        switch (offset)
        {
            case 0x18: Command(v); break;
            case 0x34: WriteFsts(v); break;
            case 0x38: WriteFectl(v); break;
            case 0x3C: _fedata = v & 0xFFFF; break;
            case 0x40: _feaddr = v & ~3u; break;
            case 0x44: _feuaddr = v; break;
            case 0x9C: WriteIcs(v); break;
            case 0xA0: WriteIectl(v); break;
            case 0xA4: _iedata = v & 0xFFFF; break;
            case 0xA8: _ieaddr = v & ~3u; break;
            case 0xAC: _ieuaddr = v; break;
        }
    }

    /// <summary>GCMD (11.4.4): software writes GSTS with one bit changed. SRTP and SIRTP are one-shot; TE, QIE, IRE and
    /// CFI persist as written. The remapping bits do nothing unless interrupt remapping is advertised.</summary>
    private void Command(uint cmd)
    {
        if ((cmd & GcmdSrtp) != 0)
        {
            _rootTable = _rtaddr & 0x000F_FFFF_FFFF_F000;
            _contexts.Clear();
            _iotlb.Clear();
            _gsts |= GcmdSrtp;
        }
        if ((cmd & GcmdTe) != 0) _gsts |= GcmdTe; else _gsts &= ~GcmdTe;
        QueueCommand((cmd & GcmdQie) != 0);
        if (!Options.InterruptRemapping) return;
        if ((cmd & GcmdSirtp) != 0) SetInterruptRemapTable();
        _gsts = (_gsts & ~(GcmdIre | GcmdCfi)) | (cmd & (GcmdIre | GcmdCfi));
    }

    private void ContextCommand()
    {
        if ((_ccmd >> 63) == 0) return;
        if (QueuedInvalidationEnabled)
        {
            IgnoredRegisterInvalidations++;
            return;
        }
        int granularity = (int)((_ccmd >> 61) & 3);
        InvalidateContexts(granularity, (ushort)_ccmd, (ushort)(_ccmd >> 16), (int)((_ccmd >> 32) & 3));
        _ccmd = (_ccmd & ~(1UL << 63) & ~(3UL << 59)) | ((ulong)(granularity == 0 ? 1 : granularity) << 59);   // ICC cleared, CAIG
    }

    private void IotlbCommand()
    {
        if ((_iotlbReg >> 63) == 0) return;
        if (QueuedInvalidationEnabled)
        {
            IgnoredRegisterInvalidations++;
            return;
        }
        int granularity = (int)((_iotlbReg >> 60) & 3);
        InvalidateIotlb(granularity, (ushort)(_iotlbReg >> 32), _iva & ~0xFFFUL, (int)(_iva & 0x3F));
        _iotlbReg = (_iotlbReg & ~(1UL << 63) & ~(3UL << 57)) | ((ulong)(granularity == 0 ? 1 : granularity) << 57);  // IVT cleared, IAIG
    }
}
