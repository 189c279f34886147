using KhoEmu.Devices.Iommu;
using KhoEmu.Machine.Board;

namespace KhoEmu.Machine.Acpi;

/// <summary>The fixed-layout tables: RSDP, MCFG, HPET and DMAR, each from the board layout.</summary>
public static class SmallTables
{
    public const int RsdpLength = 36, RsdpChecksumOffset = 8, RsdpRsdtOffset = 16, RsdpXsdtOffset = 24, RsdpExtendedChecksumOffset = 32;

    /// <summary>RSDP revision 2 (ACPI 6.5 §5.2.5.3) with table-file offsets where the addresses go; checksums zero.</summary>
    public static byte[] Rsdp(uint rsdtOffset, ulong xsdtOffset)
    {
        var r = new byte[RsdpLength];
        "RSD PTR "u8.CopyTo(r);
        System.Text.Encoding.ASCII.GetBytes(AcpiTableWriter.OemId).CopyTo(r, 9);
        r[15] = 2;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(RsdpRsdtOffset), rsdtOffset);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(20), RsdpLength);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(r.AsSpan(RsdpXsdtOffset), xsdtOffset);
        return r;
    }

    /// <summary>MCFG (PCI Firmware Specification 3.0 §4.1.2): one ECAM allocation, segment 0, buses 0-255.</summary>
    public static byte[] Mcfg()
    {
        var t = new AcpiTableWriter("MCFG", 1);
        t.Zeros(8);
        t.U64(Q35Layout.EcamBase).U16(0).U8((byte)Q35Layout.EcamFirstBus).U8((byte)Q35Layout.EcamLastBus).U32(0);
        return t.Finish();
    }

    /// <summary>HPET description table (IA-PC HPET specification 1.0a §3.2.4), as QEMU's: timer block 0, no page protection.</summary>
    public static byte[] Hpet()
    {
        var t = new AcpiTableWriter("HPET", 1);
        t.U32(Q35Layout.HpetEventTimerBlockId);
        t.Gas(0, 0, 0, 0, Q35Layout.HpetBase);                   // system memory
        t.U8(0);                                                 // HPET number
        t.U16(0);                                                // minimum clock tick in periodic mode
        t.U8(0);                                                 // page protection and OEM attributes
        return t.Finish();
    }

    /// <summary>The I/O APIC's requester id in the DMAR device scope: bus 0xFF (QEMU's Q35_PSEUDO_BUS_PLATFORM), 00.0.</summary>
    public const byte IoApicScopeBus = 0xFF, IoApicScopeDevFn = 0;
    /// <summary>The source id the I/O APIC's interrupt requests carry (the IRTE SID Linux programs for it).</summary>
    public const ushort IoApicSourceId = IoApicScopeBus << 8 | IoApicScopeDevFn;

    /// <summary>
    /// DMAR (Intel VT-d specification rev. 3, §8.1-8.3), as QEMU's intel-iommu: flags INTR_REMAP (bit 0) exactly when
    /// the unit advertises interrupt remapping (never X2APIC_OPT_OUT, as QEMU), the host address width from CAP.MGAW,
    /// one DRHD at the VT-d base with INCLUDE_PCI_ALL and the I/O APIC scope (enumeration id, bus 0xFF, path 00.0).
    /// </summary>
    public static byte[] Dmar(bool interruptRemapping = false)
    {
        var t = new AcpiTableWriter("DMAR", 1);
        t.U8(HostAddressWidth);
        t.U8((byte)(interruptRemapping ? 1 : 0));               // flags: INTR_REMAP
        t.Zeros(10);
        t.U16(0).U16(16 + 8);                                    // DRHD, length with one 8-byte device scope
        t.U8(1).U8(0).U16(0);                                    // INCLUDE_PCI_ALL, reserved, segment 0
        t.U64(Q35Layout.VtdBase);
        t.U8(3).U8(8).U16(0).U8(Q35Layout.IoApicId).U8(IoApicScopeBus).U8(IoApicScopeDevFn >> 3).U8(IoApicScopeDevFn & 7);   // I/O APIC scope
        return t.Finish();
    }

    /// <summary>DMAR "Host Address Width" is N-1 for N address bits: CAP.MGAW (bits 21:16) holds exactly that.</summary>
    public static byte HostAddressWidth => (byte)((IntelIommu.Capability >> 16) & 0x3F);
}
