using System.Buffers.Binary;
using KhoEmu.Cpu.State;
using KhoEmu.Memory;

namespace KhoEmu.Machine.Boot;

/// <summary>
/// The CPU state the Linux 64-bit boot protocol requires at entry (boot.rst, "64-bit BOOT PROTOCOL"): long mode with
/// paging, an identity map (here: all of the first 4 GiB with 2 MiB pages and any RAM above with 1 GiB pages),
/// a GDT whose __BOOT_CS (0x10) is flat 64-bit code and __BOOT_DS (0x18) flat data, CS = __BOOT_CS,
/// DS = ES = SS = __BOOT_DS, interrupts off.
/// </summary>
public static class LongModeEntry
{
    public const ushort BootCs = 0x10, BootDs = 0x18;
    private const ulong Code64 = 0x00AF_9B00_0000_FFFF, Data = 0x00CF_9300_0000_FFFF;
    private const ulong Present = 1, Writable = 2, LargePage = 0x80;
    private const ulong OneGiB = 1UL << 30, TwoMiB = 1UL << 21;

    internal static void Enter(PcMachine m, ulong entry)
    {
        BuildIdentityMap(m);
        Span<byte> gdt = stackalloc byte[32];
        gdt.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(gdt[BootCs..], Code64);
        BinaryPrimitives.WriteUInt64LittleEndian(gdt[BootDs..], Data);
        m.Memory.Write(BootLayout.Gdt, gdt);

        var cpu = m.Cpu;
        cpu.SetControlRegisters(ControlBits.Cr0PE | ControlBits.Cr0ET | ControlBits.Cr0PG, BootLayout.Pml4, ControlBits.Cr4PAE,
            Msr.EferLme | Msr.EferLma);
        cpu.SetDescriptorTables(BootLayout.Gdt, (ushort)(gdt.Length - 1), 0, 0);
        cpu.LoadSegment(SegReg.CS, SegmentCache.FromDescriptor(BootCs, Code64));
        var data = SegmentCache.FromDescriptor(BootDs, Data);
        foreach (int s in (ReadOnlySpan<int>)[SegReg.DS, SegReg.ES, SegReg.SS, SegReg.FS, SegReg.GS]) cpu.LoadSegment(s, data);
        cpu.SetRflags(Rflags.Reserved1);
        cpu.SetGpr(KhoEmu.Cpu.Cpu.RSP, BootLayout.LinuxStackTop);
        cpu.InstructionPointer = entry;
    }

    /// <summary>PML4[0] → one PDPT: entries 0-3 → page directories of 2 MiB pages (0-4 GiB), then 1 GiB pages for high RAM.</summary>
    private static void BuildIdentityMap(PcMachine m)
    {
        ulong highEnd = PhysicalMemory.HighMemoryBase + m.Memory.HighRamSize;
        ulong gib = m.Memory.HighRamSize == 0 ? 4 : (highEnd + OneGiB - 1) / OneGiB;
        if (gib > 512) throw new BootException($"guest RAM ends at 0x{highEnd:x}, beyond the 512 GiB the boot page tables map");
        var pml4 = new byte[4096];
        BinaryPrimitives.WriteUInt64LittleEndian(pml4, BootLayout.Pdpt | Present | Writable);
        var pdpt = new byte[4096];
        for (ulong i = 0; i < gib; i++)
        {
            ulong e = i < 4 ? (BootLayout.PageDirectories + i * 4096) | Present | Writable : (i * OneGiB) | Present | Writable | LargePage;
            BinaryPrimitives.WriteUInt64LittleEndian(pdpt.AsSpan((int)i * 8), e);
        }
        var pds = new byte[4 * 4096];
        for (ulong i = 0; i < 4 * 512; i++)
            BinaryPrimitives.WriteUInt64LittleEndian(pds.AsSpan((int)i * 8), (i * TwoMiB) | Present | Writable | LargePage);
        m.Memory.Write(BootLayout.Pml4, pml4);
        m.Memory.Write(BootLayout.Pdpt, pdpt);
        m.Memory.Write(BootLayout.PageDirectories, pds);
    }
}
