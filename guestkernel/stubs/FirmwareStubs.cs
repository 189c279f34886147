using Iced.Intel;
using KhoEmu.Elf;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.GuestStubs;

/// <summary>
/// Firmware stubs. The <c>.reset</c> section is linked at 0xFFFFF000, the last 4 KiB of the ROM: the reset vector
/// (0xFFFFFFF0, real mode, CS base 0xFFFF0000) jumps to 16-bit code that loads a GDT and enters 32-bit protected
/// mode; the 32-bit code copies the firmware body from ROM to its RAM link address, clears its .bss, builds identity
/// page tables for the low 4 GiB (at 0x10000) and enters long mode; the 64-bit code calls
/// <c>FirmwareMain()</c> on the firmware stack. <c>khoemu_enter_pvh(entry, startInfo)</c> leaves long mode again
/// to start a kernel the way PVH requires (32-bit protected mode, paging off, EBX = start info).
/// </summary>
public static class FirmwareStubs
{
    public const uint ResetBase = 0xFFFF_F000, RomSize = 0x40000, RomBase = 0xFFFF_FFFF - RomSize + 1;
    public const uint PageTables = 0x10000;
    private const int SlotStart = 0x00, SlotLoadEnd = 0x08, SlotEnd = 0x10, SlotMain = 0x18, SlotStack = 0x20,
        Gdt = 0x80, Gdtr = 0xB0, Code16 = 0x100, Code32 = 0x200, Code64 = 0x400, ResetVector = 0xFF0;
    public const ushort Code64Sel = 0x08, DataSel = 0x10, Code32Sel = 0x18;
    private const int StackSize = 64 * 1024;

    public static void Add(StubObject o)
    {
        CommonStubs.AddPrivileged(o);
        var stack = o.Bss(".bss.khoemu_fw_stack", StackSize, 4096);
        o.Define("khoemu_fw_stack_top", stack, StackSize, 0, global: false);
        EnterPvh(o);

        var reset = o.Section(".reset", ElfObjectWriter.ShfAlloc | ElfObjectWriter.ShfExecInstr, 4096);
        var header = new byte[Code16];
        BitConverter.GetBytes(0x00AF_9A00_0000_FFFFUL).CopyTo(header, Gdt + Code64Sel);
        BitConverter.GetBytes(0x00CF_9200_0000_FFFFUL).CopyTo(header, Gdt + DataSel);
        BitConverter.GetBytes(0x00CF_9A00_0000_FFFFUL).CopyTo(header, Gdt + Code32Sel);
        BitConverter.GetBytes((ushort)(4 * 8 - 1)).CopyTo(header, Gdtr);
        BitConverter.GetBytes(ResetBase + Gdt).CopyTo(header, Gdtr + 2);
        o.Bytes(reset, header);
        o.Relocate(reset, SlotStart, "__fw_start", ElfObjectWriter.RX86_64_64);
        o.Relocate(reset, SlotLoadEnd, "__fw_load_end", ElfObjectWriter.RX86_64_64);
        o.Relocate(reset, SlotEnd, "__fw_end", ElfObjectWriter.RX86_64_64);
        o.Relocate(reset, SlotMain, "FirmwareMain", ElfObjectWriter.RX86_64_64);
        o.Relocate(reset, SlotStack, "khoemu_fw_stack_top", ElfObjectWriter.RX86_64_64);

        // 16-bit: lgdt (32-bit base), PE on, far jump to the 32-bit code. Raw bytes where the encoding matters.
        var c16 = o.Code(reset, 16);
        c16.A.cli();
        c16.A.cld();
        ushort gdtrOffset = (ushort)((ResetBase + Gdtr) & 0xFFFF);
        c16.A.db(0x2E, 0x66, 0x0F, 0x01, 0x16, (byte)gdtrOffset, (byte)(gdtrOffset >> 8));   // o32 lgdt cs:[gdtr]
        c16.A.mov(eax, cr0);
        c16.A.or(eax, 1);
        c16.A.mov(cr0, eax);
        uint target32 = ResetBase + Code32;
        c16.A.db(0x66, 0xEA, (byte)target32, (byte)(target32 >> 8), (byte)(target32 >> 16), (byte)(target32 >> 24),
            (byte)Code32Sel, 0);                                                               // jmp far 0x18:code32
        c16.Emit();

        o.Align(reset, Code32);
        var c32 = o.Code(reset, 32);
        var a = c32.A;
        a.mov(eax, DataSel);
        a.mov(ds, ax); a.mov(es, ax); a.mov(ss, ax); a.mov(fs, ax); a.mov(gs, ax);
        // Copy [start, load_end) from the ROM (the body is at the ROM's base) to RAM; zero [load_end, end).
        a.mov(esi, RomBase);
        a.mov(edi, __dword_ptr[ResetBase + SlotStart]);
        a.mov(ecx, __dword_ptr[ResetBase + SlotLoadEnd]);
        a.sub(ecx, edi);
        a.rep.movsb();
        a.mov(ecx, __dword_ptr[ResetBase + SlotEnd]);
        a.sub(ecx, edi);
        a.xor(eax, eax);
        a.rep.stosb();
        // Tables: PML4 at PageTables, PDPT at +0x1000, PDs at +0x2000..+0x5FFF (2 MiB pages, 0..4 GiB).
        a.mov(edi, PageTables);
        a.mov(ecx, 6 * 4096 / 4);
        a.rep.stosd();
        a.mov(__dword_ptr[PageTables], PageTables + 0x1000 + 3);
        for (int i = 0; i < 4; i++) a.mov(__dword_ptr[PageTables + 0x1000 + i * 8], (uint)(PageTables + 0x2000 + i * 0x1000 + 3));
        a.xor(ecx, ecx);
        var fill = a.CreateLabel();
        a.Label(ref fill);
        a.mov(eax, ecx);
        a.shl(eax, 21);
        a.or(eax, 0x83);
        a.mov(__dword_ptr[ecx * 8 + (int)(PageTables + 0x2000)], eax);
        a.mov(eax, ecx);
        a.shr(eax, 11);
        a.mov(__dword_ptr[ecx * 8 + (int)(PageTables + 0x2004)], eax);
        a.inc(ecx);
        a.cmp(ecx, 2048);
        a.jne(fill);
        a.mov(eax, cr4);
        a.or(eax, 0x620);                      // PAE, OSFXSR, OSXMMEXCPT
        a.mov(cr4, eax);
        a.mov(eax, PageTables);
        a.mov(cr3, eax);
        a.mov(ecx, 0xC000_0080);
        a.rdmsr();
        a.or(eax, 0x100);                      // LME
        a.wrmsr();
        a.mov(eax, cr0);
        a.and(eax, ~0xC);
        a.or(eax, unchecked((int)0x8001_0023)); // PG, WP, NE, MP, PE
        a.mov(cr0, eax);
        uint target64 = ResetBase + Code64;
        a.db(0xEA, (byte)target64, (byte)(target64 >> 8), (byte)(target64 >> 16), (byte)(target64 >> 24), (byte)Code64Sel, 0);
        c32.Emit();

        o.Align(reset, Code64);
        var c64 = o.Code(reset);
        var b = c64.A;
        b.mov(eax, DataSel);
        b.mov(ds, ax); b.mov(es, ax); b.mov(ss, ax);
        b.mov(eax, ResetBase);                 // zero-extended: the header is at 0xFFFFF000 in the identity map
        b.mov(rsp, __qword_ptr[rax + SlotStack]);
        b.mov(rbx, __qword_ptr[rax + SlotMain]);
        b.xor(ebp, ebp);
        b.call(rbx);
        var hang = b.CreateLabel();
        b.Label(ref hang);
        b.cli();
        b.hlt();
        b.jmp(hang);
        c64.Emit();

        LeaveLongModeCode(o, reset);

        // Reset vector at 0xFFFFFFF0: jmp near to the 16-bit code (IP-relative within the CS 0xFFFF0000 window).
        o.Align(reset, 16);
        var pad = new List<byte>();
        while (o.Offset(reset) + (ulong)pad.Count < ResetVector) pad.Add(0xCC);
        o.Bytes(reset, pad.ToArray());
        int rel = Code16 - (ResetVector + 3);
        o.Bytes(reset, [0xE9, (byte)rel, (byte)(rel >> 8)]);
        o.Bytes(reset, new byte[16 - 3]);
    }

    /// <summary>
    /// khoemu_enter_pvh(entry, startInfo): long mode → 32-bit protected mode, paging off, EBX = start info, then jump
    /// to the kernel's PVH entry. The 64-bit half (in .text) far-returns into the 32-bit half at a fixed ROM address.
    /// </summary>
    private static void EnterPvh(StubObject o)
    {
        var c = o.Code(o.Text);
        var a = c.A;
        c.Export("khoemu_enter_pvh");
        a.cli();
        a.mov(ebx, esi);                       // start info
        a.mov(ebp, edi);                       // entry
        a.push(Code32Sel);
        a.mov(eax, ResetBase + LeaveLongMode);
        a.push(rax);
        a.db(0x48, 0xCB);                      // retfq into compatibility mode
        c.Emit();
    }

    private const int LeaveLongMode = 0x800;

    private static void LeaveLongModeCode(StubObject o, ElfObjectWriter.Section reset)
    {
        o.Align(reset, LeaveLongMode);
        var c = o.Code(reset, 32);
        var a = c.A;
        a.mov(eax, DataSel);
        a.mov(ds, ax); a.mov(es, ax); a.mov(ss, ax); a.mov(fs, ax); a.mov(gs, ax);
        a.mov(eax, cr0);
        a.and(eax, 0x7FFF_FFFF);               // paging off: IA-32e mode deactivates
        a.mov(cr0, eax);
        a.mov(ecx, 0xC000_0080);
        a.rdmsr();
        a.and(eax, ~0x100);                    // LME off
        a.wrmsr();
        a.mov(eax, cr4);
        a.and(eax, ~0x20);                     // PAE off
        a.mov(cr4, eax);
        a.xor(eax, eax);
        a.mov(cr3, eax);
        a.jmp(ebp);
        c.Emit();
    }
}
