using KhoEmu.Machine.Board;

namespace KhoEmu.Machine.Acpi;

/// <summary>
/// The FADT (ACPI 6.5 §5.2.9, revision 6 minor 0: 276 bytes, the ACPI 6.0 layout; a 268-byte revision 5 table makes
/// iasl 20200925 report a truncated structure) of the ICH9 PM block, and the FACS (§5.2.10). Fixed
/// hardware as QEMU's q35: PM1a event/control, a 24-bit PM timer (TMR_VAL_EXT clear), GPE0, SCI on IRQ 9, SMI_CMD
/// 0xB2 with ACPI_ENABLE/ACPI_DISABLE, the 0xCF9 reset register, the RTC century byte, an 8042 and no VGA.
/// </summary>
public static class Fadt
{
    public const byte Revision = 6, MinorRevision = 0;
    public const int Length = 276;
    public const int FirmwareCtrlOffset = 36, DsdtOffset = 40, SciIntOffset = 46, FlagsOffset = 112, ResetRegOffset = 116;
    public const int IapcBootArchOffset = 109, XDsdtOffset = 140, XPm1aEventOffset = 148;

    // Fixed feature flags (Table 5.10): WBINVD, PROC_C1, SLP_BUTTON (no fixed sleep button), RTC_S4, RESET_REG_SUP,
    // USE_PLATFORM_CLOCK, the set QEMU's q35 reports. TMR_VAL_EXT (bit 8) stays clear: the PM timer is 24 bits.
    public const uint Flags = (1u << 0) | (1u << 2) | (1u << 5) | (1u << 7) | (1u << 10) | (1u << 15);
    // IA-PC boot architecture flags (Table 5.11): 8042 present (bit 1), VGA not present (bit 2).
    public const ushort IapcBootArch = (1 << 1) | (1 << 2);

    private const byte SystemIo = 1;

    public static byte[] Build()
    {
        var t = new AcpiTableWriter("FACP", Revision);
        t.U32(0);                                                // FIRMWARE_CTRL (loader: FACS)
        t.U32(0);                                                // DSDT (loader)
        t.U8(0);                                                 // reserved (ACPI 1.0 INT_MODEL)
        t.U8(0);                                                 // Preferred_PM_Profile: unspecified
        t.U16(Q35Layout.SciIrq);
        t.U32(Q35Layout.SmiCommandPort);
        t.U8(Q35Layout.AcpiEnable).U8(Q35Layout.AcpiDisable);
        t.U8(0);                                                 // S4BIOS_REQ
        t.U8(0);                                                 // PSTATE_CNT
        t.U32(Q35Layout.Pm1aEventBlock).U32(0);                  // PM1a/PM1b_EVT_BLK
        t.U32(Q35Layout.Pm1aControlBlock).U32(0);                // PM1a/PM1b_CNT_BLK
        t.U32(0);                                                // PM2_CNT_BLK
        t.U32(Q35Layout.PmTimerBlock);
        t.U32(Q35Layout.Gpe0Block).U32(0);                       // GPE0/GPE1_BLK
        t.U8(Q35Layout.Pm1EventLength).U8(Q35Layout.Pm1ControlLength).U8(0).U8(Q35Layout.PmTimerLength);
        t.U8(Q35Layout.Gpe0Length).U8(0).U8(0);                  // GPE0_BLK_LEN, GPE1_BLK_LEN, GPE1_BASE
        t.U8(0);                                                 // CST_CNT
        t.U16(0x0FFF).U16(0x03E9);                               // P_LVL2_LAT, P_LVL3_LAT: C2/C3 not supported
        t.U16(0).U16(0);                                         // FLUSH_SIZE, FLUSH_STRIDE
        t.U8(0).U8(0);                                           // DUTY_OFFSET, DUTY_WIDTH
        t.U8(0).U8(0);                                           // DAY_ALRM, MON_ALRM
        t.U8(Q35Layout.RtcCenturyIndex);
        t.U16(IapcBootArch);
        t.U8(0);                                                 // reserved
        t.U32(Flags);
        t.Gas(SystemIo, 8, 0, 1, Q35Layout.ResetRegisterPort);  // RESET_REG: byte access
        t.U8(Q35Layout.ResetValue);
        t.U16(0);                                                // ARM_BOOT_ARCH
        t.U8(MinorRevision);
        t.U64(0);                                                // X_FIRMWARE_CTRL: FIRMWARE_CTRL is used, as QEMU does
        t.U64(0);                                                // X_DSDT (loader)
        t.Gas(SystemIo, 8 * Q35Layout.Pm1EventLength, 0, 0, Q35Layout.Pm1aEventBlock);
        t.Gas(0, 0, 0, 0, 0);                                    // X_PM1b_EVT_BLK
        t.Gas(SystemIo, 8 * Q35Layout.Pm1ControlLength, 0, 0, Q35Layout.Pm1aControlBlock);
        t.Gas(0, 0, 0, 0, 0);                                    // X_PM1b_CNT_BLK
        t.Gas(0, 0, 0, 0, 0);                                    // X_PM2_CNT_BLK
        t.Gas(SystemIo, 8 * Q35Layout.PmTimerLength, 0, 0, Q35Layout.PmTimerBlock);
        t.Gas(SystemIo, 8 * Q35Layout.Gpe0Length, 0, 0, Q35Layout.Gpe0Block);
        t.Gas(0, 0, 0, 0, 0);                                    // X_GPE1_BLK
        t.Gas(0, 0, 0, 0, 0);                                    // SLEEP_CONTROL_REG (not hardware-reduced)
        t.Gas(0, 0, 0, 0, 0);                                    // SLEEP_STATUS_REG
        t.U64(0);                                                // Hypervisor Vendor Identity: none
        var table = t.Finish();
        if (table.Length != Length) throw new InvalidOperationException($"FADT is {table.Length} bytes, not {Length}");
        return table;
    }

    /// <summary>FACS (§5.2.10): 64 bytes, version 2, no waking vector (S3 is not offered), no global lock owner.</summary>
    public static byte[] Facs()
    {
        var f = new byte[64];
        "FACS"u8.CopyTo(f);
        f[4] = 64;                                               // length
        f[32] = 2;                                               // version
        return f;
    }
}
