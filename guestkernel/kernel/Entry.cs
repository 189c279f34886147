using System.Runtime;
using System.Runtime.CompilerServices;

namespace KhoEmu.Kernel;

public static unsafe class Entry
{
    [RuntimeImport("*", "khoemu_outb")] [MethodImpl(MethodImplOptions.InternalCall)] private static extern void Outb(uint port, uint value);
    [RuntimeImport("*", "khoemu_inb")] [MethodImpl(MethodImplOptions.InternalCall)] private static extern uint Inb(uint port);
    [RuntimeImport("*", "khoemu_outl")] [MethodImpl(MethodImplOptions.InternalCall)] private static extern void Outl(uint port, uint value);

    private static void Put(string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            while ((Inb(0x3FD) & 0x20) == 0) { }
            Outb(0x3F8, s[i]);
        }
    }

    [RuntimeExport("KernelEntry")]
    private static void KernelEntry(ulong startInfo, ulong imagePhys)
    {
        Put("hello from the C# kernel\r\n");
        Outl(0xF4, 0x10);
    }

    [RuntimeExport("KernelTrap")]
    private static void* KernelTrap(void* frame) => frame;
}
