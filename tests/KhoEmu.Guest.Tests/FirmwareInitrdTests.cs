using System.Text;
using Iced.Intel;
using KhoEmu.Elf;
using KhoEmu.Harness;
using KhoEmu.Machine;
using KhoEmu.Machine.Boot;
using NUnit.Framework;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Guest.Tests;

/// <summary>
/// The project's firmware with -initrd: it reads fw_cfg's INITRD_ADDR/SIZE/DATA, copies the initrd and passes it to
/// the kernel as PVH module 0. The kernel is a small PVH ELF assembled here (32-bit, paging off, as PVH enters) that
/// prints the module's address, size and FNV-1a from hvm_start_info on COM1.
/// </summary>
public sealed class FirmwareInitrdTests
{
    private const ulong Base = 0x40_0000;

    private static byte[] ModuleReporter()
    {
        var a = new Assembler(32);
        Label putc = a.CreateLabel(), puthex = a.CreateLabel(), hash = a.CreateLabel(), wait = a.CreateLabel();
        Label digit = a.CreateLabel(), letter = a.CreateLabel(), fail = a.CreateLabel();
        a.mov(esp, 0x9_0000);                          // conventional memory, below everything the firmware uses
        a.cmp(__dword_ptr[ebx], DirectBoot.HvmStartMagic);
        a.jne(fail);
        a.cmp(__dword_ptr[ebx + 12], 1);              // nr_modules
        a.jne(fail);
        a.mov(esi, __dword_ptr[ebx + 16]);            // modlist_paddr
        a.mov(eax, __dword_ptr[esi]); a.call(puthex);  // paddr
        a.mov(al, (byte)' '); a.call(putc);
        a.mov(eax, __dword_ptr[esi + 8]); a.call(puthex);  // size
        a.mov(al, (byte)' '); a.call(putc);
        a.mov(edi, __dword_ptr[esi]);
        a.mov(ecx, __dword_ptr[esi + 8]);
        a.mov(edx, 0x811C_9DC5);
        a.Label(ref hash);
        a.movzx(eax, __byte_ptr[edi]);
        a.xor(edx, eax);
        a.imul(edx, edx, 0x0100_0193);
        a.inc(edi);
        a.dec(ecx);
        a.jnz(hash);
        a.mov(eax, edx); a.call(puthex);
        a.mov(al, (byte)'\n'); a.call(putc);
        a.mov(eax, 0x21);
        a.mov(dx, 0xF4);
        a.@out(dx, eax);
        a.hlt();
        a.Label(ref fail);
        a.mov(eax, 0x7E);
        a.mov(dx, 0xF4);
        a.@out(dx, eax);
        a.hlt();
        a.Label(ref putc);                              // putc(al)
        a.push(edx);
        a.push(eax);
        a.Label(ref wait);
        a.mov(dx, 0x3FD);
        a.@in(al, dx);
        a.test(al, 0x20);
        a.jz(wait);
        a.pop(eax);
        a.mov(dx, 0x3F8);
        a.@out(dx, al);
        a.pop(edx);
        a.ret();
        a.Label(ref puthex);                            // puthex(eax): 8 digits
        a.push(ecx);
        a.push(ebp);
        a.mov(ebp, eax);
        a.mov(ecx, 8);
        a.Label(ref digit);
        a.rol(ebp, 4);
        a.mov(eax, ebp);
        a.and(eax, 15);
        a.add(al, (byte)'0');
        a.cmp(al, (byte)'9');
        a.jbe(letter);
        a.add(al, 'a' - '9' - 1);
        a.Label(ref letter);
        a.call(putc);
        a.dec(ecx);
        a.jnz(digit);
        a.pop(ebp);
        a.pop(ecx);
        a.ret();
        using var ms = new MemoryStream();
        a.Assemble(new StreamCodeWriter(ms), Base);
        var w = new ElfWriter(ElfWriter.FileKind.Executable) { Entry = Base };
        w.AddSegment(Base, Base, ms.ToArray(), (ulong)ms.Length, 7);
        w.AddNote("Xen", DirectBoot.PvhNoteType, BitConverter.GetBytes(Base));
        return w.Build();
    }

    [Test]
    public void FirmwareHandsTheInitrdToThePvhKernelAsModuleZero()
    {
        var initrd = new byte[200_003];
        new Random(11).NextBytes(initrd);
        uint fnv = 0x811C_9DC5;
        foreach (byte b in initrd) fnv = (fnv ^ b) * 0x0100_0193;
        var serial = new MemoryStream();
        using var m = new PcMachine(new MachineConfig
        {
            Firmware = GuestImages.Firmware, Kernel = ModuleReporter(), Initrd = initrd, SerialOutput = serial,
        });
        m.FwCfg.WritePort(0, 2, 0x0A);                 // FW_CFG_INITRD_ADDR, read as the firmware does
        ulong addr = 0;
        for (int i = 0; i < 4; i++) addr |= (ulong)m.FwCfg.ReadPort(1, 1) << (8 * i);
        var exit = m.Run(200_000_000);
        string text = Encoding.ASCII.GetString(serial.ToArray());
        Assert.That(addr, Is.EqualTo(((512UL << 20) - 0x28001 - (ulong)initrd.Length) & ~4095UL), "QEMU's placement");
        Assert.That(text, Does.Contain($"firmware: initrd of 0x{initrd.Length:x16} bytes at 0x{addr:x16}"));
        Assert.That(text, Does.EndWith($"{addr:x8} {initrd.Length:x8} {fnv:x8}\n"), exit.Diagnostic);
        Assert.That(exit.ExitCode, Is.EqualTo((0x21 << 1) | 1), text);
    }
}
