using System.Buffers.Binary;
using System.Text;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Machine.Tests.Boot;

/// <summary>
/// A bzImage made in the test: a setup header written field by field (boot.rst's layout, protocol 2.15) and a
/// protected-mode part whose 64-bit entry (+0x200) is assembled with Iced. The guest checks the entry state the
/// 64-bit boot protocol promises (long mode, paging, CS 0x10, DS/ES/SS 0x18, IF clear, RSI → boot_params with
/// "HdrS" and type_of_loader 0xFF), then prints the command line and the initrd (size, address, FNV-1a) that it
/// finds through boot_params' pointers on COM1 and exits through isa-debug-exit with 0x21 (0x7E on a failed check,
/// after printing which one).
/// </summary>
public static class SyntheticBzImage
{
    public const ulong PrefAddress = 0x100_0000;
    public const uint InitSize = 0x20_0000;
    public const int SetupSects = 2;
    public const int PassValue = 0x21, FailValue = 0x7E;

    public static byte[] Build()
    {
        var code = Entry64(PrefAddress + 0x200);
        var payload = new byte[(0x200 + code.Length + 15) & ~15];
        payload.AsSpan(0, 0x200).Fill(0xCC);          // where the 32-bit entry would be: never run
        code.CopyTo(payload, 0x200);
        var image = new byte[(SetupSects + 1) * 512 + payload.Length];
        var h = image.AsSpan();
        h[0x1F1] = SetupSects;
        BinaryPrimitives.WriteUInt32LittleEndian(h[0x1F4..], (uint)(payload.Length / 16));  // syssize
        BinaryPrimitives.WriteUInt16LittleEndian(h[0x1FE..], 0xAA55);                       // boot_flag
        h[0x200] = 0xEB;                                                                    // jmp short
        h[0x201] = 0x66;                                                                    // header ends at 0x268
        "HdrS"u8.CopyTo(h[0x202..]);
        BinaryPrimitives.WriteUInt16LittleEndian(h[0x206..], 0x020F);                       // version 2.15
        h[0x211] = 0x01;                                                                    // LOADED_HIGH
        BinaryPrimitives.WriteUInt32LittleEndian(h[0x214..], 0x100000);                     // code32_start
        BinaryPrimitives.WriteUInt32LittleEndian(h[0x22C..], 0x7FFF_FFFF);                  // initrd_addr_max
        BinaryPrimitives.WriteUInt32LittleEndian(h[0x230..], 0x20_0000);                    // kernel_alignment
        h[0x234] = 1;                                                                       // relocatable_kernel
        BinaryPrimitives.WriteUInt16LittleEndian(h[0x236..], 0x03);                         // XLF_KERNEL_64 | CAN_BE_LOADED_ABOVE_4G
        BinaryPrimitives.WriteUInt32LittleEndian(h[0x238..], 2047);                         // cmdline_size
        BinaryPrimitives.WriteUInt64LittleEndian(h[0x258..], PrefAddress);                  // pref_address
        BinaryPrimitives.WriteUInt32LittleEndian(h[0x260..], InitSize);                     // init_size
        payload.CopyTo(image, (SetupSects + 1) * 512);
        return image;
    }

    /// <summary>FNV-1a (32-bit), as the guest computes it.</summary>
    public static uint Fnv1a(ReadOnlySpan<byte> data)
    {
        uint h = 0x811C_9DC5;
        foreach (byte b in data) h = (h ^ b) * 0x0100_0193;
        return h;
    }

    /// <summary>What the guest prints for a command line and an initrd at <paramref name="initrdAddr"/>.</summary>
    public static string ExpectedOutput(string cmdline, byte[]? initrd, ulong initrdAddr) =>
        "entry: long mode, CS 0x10, DS 0x18, boot_params ok\n"
        + $"cmdline: {cmdline}\n"
        + (initrd is null ? "initrd: none\n"
            : $"initrd: {initrd.Length:x16} bytes at {initrdAddr:x16} fnv1a {Fnv1a(initrd):x16}\n");

    private static byte[] Entry64(ulong rip)
    {
        var a = new Assembler(64);
        Label fail = a.CreateLabel(), puts = a.CreateLabel(), puthex = a.CreateLabel(), putc = a.CreateLabel();
        Label stackTop = a.CreateLabel(), msgEntry = a.CreateLabel(), msgCmd = a.CreateLabel(), msgInitrd = a.CreateLabel();
        Label msgNone = a.CreateLabel(), msgFnv = a.CreateLabel(), msgBytes = a.CreateLabel();
        Label msgFail = a.CreateLabel(), noInitrd = a.CreateLabel(), hashLoop = a.CreateLabel();
        Label done = a.CreateLabel();

        // The protocol leaves RSP undefined: use our own stack. R15 counts the checks for the failure message.
        a.lea(rsp, __[stackTop]);
        a.xor(r15d, r15d);
        void Check(Action<Assembler> test, bool wantZero)
        {
            a.inc(r15d);
            test(a);
            if (wantZero) a.jnz(fail); else a.jz(fail);
        }
        a.mov(r12, rsi);
        Check(x => { x.mov(ecx, 0xC000_0080); x.rdmsr(); x.test(eax, 0x400); }, wantZero: false);      // EFER.LMA
        Check(x => { x.mov(rax, cr0); x.shr(rax, 31); x.test(eax, 1); }, wantZero: false);             // CR0.PG
        Check(x => { x.mov(rax, cr4); x.test(eax, 0x20); }, wantZero: false);                          // CR4.PAE
        Check(x => { x.mov(ax, cs); x.cmp(ax, 0x10); }, wantZero: true);
        Check(x => { x.mov(ax, ds); x.cmp(ax, 0x18); }, wantZero: true);
        Check(x => { x.mov(ax, es); x.cmp(ax, 0x18); }, wantZero: true);
        Check(x => { x.mov(ax, ss); x.cmp(ax, 0x18); }, wantZero: true);
        Check(x => { x.pushfq(); x.pop(rax); x.test(eax, 0x200); }, wantZero: true);                   // IF = 0
        Check(x => x.cmp(__dword_ptr[r12 + 0x202], 0x5372_6448), wantZero: true);                      // "HdrS"
        Check(x => x.cmp(__byte_ptr[r12 + 0x210], 0xFF), wantZero: true);                              // type_of_loader
        Check(x => { x.mov(al, __byte_ptr[r12 + 0x211]); x.and(al, 0x80); }, wantZero: false);        // CAN_USE_HEAP
        Check(x => x.cmp(__qword_ptr[r12 + 0x250], 0), wantZero: true);                                // setup_data

        a.lea(rbx, __[msgEntry]); a.call(puts);
        a.lea(rbx, __[msgCmd]); a.call(puts);
        a.mov(ebx, __dword_ptr[r12 + 0x228]);         // cmd_line_ptr | ext_cmd_line_ptr << 32
        a.mov(eax, __dword_ptr[r12 + 0xC8]);
        a.shl(rax, 32);
        a.or(rbx, rax);
        a.call(puts);
        a.mov(al, (byte)'\n'); a.call(putc);

        a.lea(rbx, __[msgInitrd]); a.call(puts);
        a.mov(r13d, __dword_ptr[r12 + 0x218]);        // ramdisk_image | ext_ramdisk_image << 32
        a.mov(eax, __dword_ptr[r12 + 0xC0]);
        a.shl(rax, 32);
        a.or(r13, rax);
        a.mov(r14d, __dword_ptr[r12 + 0x21C]);        // ramdisk_size | ext_ramdisk_size << 32
        a.mov(eax, __dword_ptr[r12 + 0xC4]);
        a.shl(rax, 32);
        a.or(r14, rax);
        a.test(r14, r14);
        a.jz(noInitrd);
        a.mov(rax, r14); a.call(puthex);
        a.lea(rbx, __[msgBytes]); a.call(puts);
        a.mov(rax, r13); a.call(puthex);
        a.lea(rbx, __[msgFnv]); a.call(puts);
        a.mov(edx, 0x811C_9DC5);
        a.mov(rsi, r13);
        a.mov(rcx, r14);
        a.Label(ref hashLoop);
        a.movzx(eax, __byte_ptr[rsi]);
        a.xor(edx, eax);
        a.imul(edx, edx, 0x0100_0193);
        a.inc(rsi);
        a.dec(rcx);
        a.jnz(hashLoop);
        a.mov(eax, edx); a.call(puthex);
        a.mov(al, (byte)'\n'); a.call(putc);
        a.jmp(done);
        a.Label(ref noInitrd);
        a.lea(rbx, __[msgNone]); a.call(puts);
        a.Label(ref done);
        a.mov(eax, PassValue);
        a.mov(dx, 0xF4);
        a.@out(dx, eax);
        a.hlt();

        a.Label(ref fail);
        a.lea(rbx, __[msgFail]); a.call(puts);
        a.mov(eax, r15d); a.call(puthex);
        a.mov(al, (byte)'\n'); a.call(putc);
        a.mov(eax, FailValue);
        a.mov(dx, 0xF4);
        a.@out(dx, eax);
        a.hlt();

        // putc(al): COM1 transmit, waiting for THR empty (LSR bit 5).
        a.Label(ref putc);
        a.push(rdx);
        a.push(rax);
        var wait = a.CreateLabel();
        a.Label(ref wait);
        a.mov(dx, 0x3FD);
        a.@in(al, dx);
        a.test(al, 0x20);
        a.jz(wait);
        a.pop(rax);
        a.mov(dx, 0x3F8);
        a.@out(dx, al);
        a.pop(rdx);
        a.ret();
        // puts(rbx): NUL-terminated string.
        var end = a.CreateLabel();
        a.Label(ref puts);
        a.mov(al, __byte_ptr[rbx]);
        a.test(al, al);
        a.jz(end);
        a.call(putc);
        a.inc(rbx);
        a.jmp(puts);
        a.Label(ref end);
        a.ret();
        // puthex(rax): 16 hex digits.
        a.Label(ref puthex);
        a.push(rcx);
        a.push(rdi);
        a.mov(rdi, rax);
        a.mov(ecx, 16);
        var digit = a.CreateLabel();
        var letter = a.CreateLabel();
        a.Label(ref digit);
        a.rol(rdi, 4);
        a.mov(eax, edi);
        a.and(eax, 15);
        a.add(al, (byte)'0');
        a.cmp(al, (byte)'9');
        a.jbe(letter);
        a.add(al, 'a' - '9' - 1);
        a.Label(ref letter);
        a.call(putc);
        a.dec(ecx);
        a.jnz(digit);
        a.pop(rdi);
        a.pop(rcx);
        a.ret();

        void Str(ref Label l, string s)
        {
            a.Label(ref l);
            a.db(Encoding.ASCII.GetBytes(s + "\0"));
        }
        Str(ref msgEntry, "entry: long mode, CS 0x10, DS 0x18, boot_params ok\n");
        Str(ref msgCmd, "cmdline: ");
        Str(ref msgInitrd, "initrd: ");
        Str(ref msgNone, "none\n");
        Str(ref msgBytes, " bytes at ");
        Str(ref msgFnv, " fnv1a ");
        Str(ref msgFail, "FAIL: check ");
        a.db(new byte[0x800]);
        a.Label(ref stackTop);
        a.db(new byte[16]);
        using var ms = new MemoryStream();
        a.Assemble(new StreamCodeWriter(ms), rip);
        return ms.ToArray();
    }
}
