using Iced.Intel;
using KhoEmu.Cpu.Smp;
using KhoEmu.Elf;
using KhoEmu.Machine.Boot;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Machine.Tests.Smp;

/// <summary>
/// A two-processor test guest: a 32-bit PVH kernel whose code holds the BSP's program, the AP's 32-bit program and
/// the interrupt handlers, plus what the host writes into low memory before the run: the AP's real-mode trampoline
/// at <see cref="Trampoline"/> (SIPI vector 9, SDM vol. 3, 9.4.4), which loads the boot GDT and jumps to the AP
/// program in protected mode, and a shared IDT. Results live at <see cref="Results"/>.
/// </summary>
internal sealed class SmpGuest
{
    public const ulong Base = 0x10_0000;
    public const uint Trampoline = 0x9000, Descriptors = 0xA000, Idt = 0xB000, Results = 0x5_0000;
    /// <summary>A result word real-mode code can reach (below 64 KiB).</summary>
    public const uint RealModeResult = 0xC000;
    public const uint ApicBase = 0xFEE0_0000;
    public const byte Done = 0x10;

    public readonly Assembler A = new(32);
    public Label ApEntry;
    private readonly List<(int Vector, Label Handler)> _gates = [];

    public SmpGuest()
    {
        ApEntry = A.CreateLabel();
        // BSP: stack, the shared IDT, its local APIC enabled.
        A.mov(esp, 0x8_0000);
        A.lidt(__fword_ptr[Descriptors + 8]);
        A.mov(__dword_ptr[ApicBase + 0xF0], 0x1FF);
    }

    /// <summary>Routes <paramref name="vector"/> to <paramref name="handler"/> (a 32-bit interrupt gate).</summary>
    public void Gate(int vector, Label handler) => _gates.Add((vector, handler));

    /// <summary>ICR high (destination) then ICR low: sends an IPI (SDM vol. 3, 11.6.1).</summary>
    public void SendIpi(byte destination, uint icrLow)
    {
        A.mov(__dword_ptr[ApicBase + 0x310], (uint)destination << 24);
        A.mov(__dword_ptr[ApicBase + 0x300], icrLow);
    }

    /// <summary>The MP start-up protocol: INIT assert, INIT de-assert, two start-up IPIs with the trampoline's vector.</summary>
    public void StartAp(byte apicId)
    {
        SendIpi(apicId, 0x0000_C500);   // INIT, level assert
        SendIpi(apicId, 0x0000_8500);   // INIT level de-assert
        SendIpi(apicId, 0x0000_4600 | (Trampoline >> 12));
        SendIpi(apicId, 0x0000_4600 | (Trampoline >> 12));
    }

    /// <summary>Spins (with PAUSE) until the dword at <paramref name="address"/> equals <paramref name="value"/>;
    /// after a bounded number of tries exits with <paramref name="failCode"/>.</summary>
    public void WaitFor(uint address, uint value, byte failCode)
    {
        var again = A.CreateLabel();
        var ok = A.CreateLabel();
        A.mov(ecx, 2_000_000);
        A.Label(ref again);
        A.cmp(__dword_ptr[address], value);
        A.je(ok);
        A.pause();
        A.dec(ecx);
        A.jnz(again);
        Exit(failCode);
        A.Label(ref ok);
    }

    /// <summary>Writes <paramref name="code"/> to isa-debug-exit (the run ends with exit code code*2+1).</summary>
    public void Exit(byte code)
    {
        A.mov(al, code);
        A.@out(0xF4, al);
        var hang = A.CreateLabel();
        A.Label(ref hang);
        A.hlt();
        A.jmp(hang);
    }

    /// <summary>The handler prologue every test handler uses: EAX = this processor's APIC ID (from the APIC page).</summary>
    public void ApicIdToEax()
    {
        A.mov(eax, __dword_ptr[ApicBase + 0x20]);
        A.shr(eax, 24);
    }

    public void Eoi() => A.mov(__dword_ptr[ApicBase + 0xB0], 0);

    /// <summary>Begins the AP's 32-bit program: segments, stack, IDT, local APIC enabled with logical ID bit 1 (flat).</summary>
    public void BeginAp()
    {
        A.Label(ref ApEntry);
        A.mov(ax, 0x10);
        A.mov(ds, ax);
        A.mov(es, ax);
        A.mov(ss, ax);
        A.mov(esp, 0x7_F000);
        A.lidt(__fword_ptr[Descriptors + 8]);
        A.mov(__dword_ptr[ApicBase + 0xF0], 0x1FF);
        A.mov(__dword_ptr[ApicBase + 0xE0], 0xFFFF_FFFF);
        A.mov(__dword_ptr[ApicBase + 0xD0], 0x0200_0000);
    }

    /// <summary>Builds the machine: assembles the kernel, writes the trampoline, descriptors and IDT.</summary>
    public PcMachine Build(int cpus = 2, Action<PcMachine>? prepare = null)
    {
        using var ms = new MemoryStream();
        var result = A.Assemble(new StreamCodeWriter(ms), Base, BlockEncoderOptions.ReturnNewInstructionOffsets);
        var w = new ElfWriter(ElfWriter.FileKind.Executable) { Entry = Base };
        w.AddSegment(Base, Base, ms.ToArray(), (ulong)ms.Length, 7);
        w.AddNote("Xen", DirectBoot.PvhNoteType, BitConverter.GetBytes(Base));
        var m = new PcMachine(new MachineConfig { Kernel = w.Build(), Smp = CpuTopology.Cores1Socket(cpus) });

        // Real-mode trampoline: boot GDT (0x08 code32, 0x10 data), CR0.PE, far jump to the AP program.
        var t = new Assembler(16);
        t.cli();
        t.lgdt(__fword_ptr[Descriptors]);
        t.mov(eax, cr0);
        t.or(eax, 1);
        t.mov(cr0, eax);
        t.db(0x66, 0xEA);                                       // jmp far ptr16:32 (o32)
        t.dd((uint)result.GetLabelRIP(ApEntry));
        t.dw(0x08);
        m.Memory.Write(Trampoline, AssembleAt(t, 0));

        var desc = new byte[16];
        BitConverter.GetBytes((ushort)31).CopyTo(desc, 0);
        BitConverter.GetBytes((uint)BootLayout.Gdt).CopyTo(desc, 2);
        BitConverter.GetBytes((ushort)0x7FF).CopyTo(desc, 8);
        BitConverter.GetBytes(Idt).CopyTo(desc, 10);
        m.Memory.Write(Descriptors, desc);
        foreach (var (vector, handler) in _gates)
        {
            uint at = (uint)result.GetLabelRIP(handler);
            ulong gate = (at & 0xFFFFUL) | (0x08UL << 16) | (0x8E00UL << 32) | ((ulong)(at >> 16) << 48);
            m.Memory.Write(Idt + (ulong)vector * 8, BitConverter.GetBytes(gate));
        }
        prepare?.Invoke(m);
        return m;
    }

    public static byte[] AssembleAt(Assembler a, ulong address)
    {
        using var ms = new MemoryStream();
        a.Assemble(new StreamCodeWriter(ms), address);
        return ms.ToArray();
    }

    public static uint Dword(PcMachine m, ulong address)
    {
        var b = new byte[4];
        m.Memory.Read(address, b);
        return BitConverter.ToUInt32(b);
    }
}
