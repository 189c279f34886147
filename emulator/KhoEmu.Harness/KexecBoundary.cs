using KhoEmu.Elf;
using KhoEmu.Machine;
using KhoEmu.Machine.Boot;

namespace KhoEmu.Harness;

/// <summary>
/// Swapping the kernel a snapshot taken at a kexec jump is about to enter (<c>khoemu test --from-snapshot FILE
/// --next-kernel IMAGE</c>, docs/snapshots.md). At the project kernel's jump the next kernel is already loaded: its
/// PT_LOAD segments were copied to a 2 MiB-aligned scratch area ("dest", keeping their distances from the lowest
/// segment) and the jump goes to dest plus the PVH entry's offset. <see cref="ReplaceLoadedKernel"/> finds that area by
/// the loaded image's first segment, clears it and copies the new image's segments there instead. Everything else
/// stays the snapshot's: the command line and boot information in the scratch page, the handed-over memory, and
/// fw_cfg's <c>opt/khoemu/kernel</c>, which later kexecs of the second stage load again.
/// </summary>
public static class KexecBoundary
{
    private const ulong Align = 2UL << 20;

    private sealed record Layout(ElfFile Elf, ulong Low, ulong Span, ulong EntryOffset);

    private static Layout Describe(byte[] image, string what)
    {
        ElfFile elf;
        try { elf = ElfFile.Parse(image); }
        catch (ElfFormatException e) { throw new BootException($"{what}: {e.Message}"); }
        var pvh = elf.Notes().FirstOrDefault(n => n.Name == "Xen" && n.Type == DirectBoot.PvhNoteType)
            ?? throw new BootException($"{what}: no PVH entry note (the project kernel's kexec loads PVH ELF kernels only)");
        ulong entry = pvh.Descriptor.Length >= 8 ? BitConverter.ToUInt64(pvh.Descriptor) : pvh.Descriptor.Length >= 4 ? BitConverter.ToUInt32(pvh.Descriptor)
            : throw new BootException($"{what}: the PVH note has no entry address");
        var loads = elf.Segments.Where(s => s.Type == ElfSegment.Load && s.MemorySize > 0).ToList();
        if (loads.Count == 0) throw new BootException($"{what}: no PT_LOAD segment");
        ulong low = loads.Min(s => s.PhysicalAddress), high = loads.Max(s => s.PhysicalAddress + s.MemorySize);
        if (entry < low || entry >= high) throw new BootException($"{what}: the PVH entry 0x{entry:x} is outside its segments");
        return new(elf, low, (high - low + Align - 1) & ~(Align - 1), entry - low);
    }

    /// <summary>Replaces the loaded <paramref name="loaded"/> image in <paramref name="machine"/>'s RAM with
    /// <paramref name="next"/>; returns the address it was found at.</summary>
    /// <exception cref="BootException">The image cannot take the loaded one's place (named why).</exception>
    public static ulong ReplaceLoadedKernel(PcMachine machine, byte[] loaded, byte[] next)
    {
        var old = Describe(loaded, "the snapshot's kernel");
        var @new = Describe(next, "--next-kernel");
        if (@new.EntryOffset != old.EntryOffset)
            throw new BootException($"--next-kernel: its PVH entry is 0x{@new.EntryOffset:x} bytes into its image, the loaded kernel's 0x{old.EntryOffset:x}; the jump target is already set");
        if (@new.Span > old.Span)
            throw new BootException($"--next-kernel: it spans {@new.Span >> 20} MiB, the area the old kernel loaded into {old.Span >> 20} MiB");

        var first = old.Elf.Segments.Where(s => s.Type == ElfSegment.Load && s.FileSize > 0).OrderBy(s => s.PhysicalAddress).First();
        var probe = old.Elf.SegmentData(first)[..(int)Math.Min(first.FileSize, 4096)].ToArray();
        ulong at = first.PhysicalAddress - old.Low;
        var mem = machine.Memory;
        var found = new List<ulong>();
        var buffer = new byte[probe.Length];
        ulong top = mem.HighRamSize > 0 ? Memory.PhysicalMemory.HighMemoryBase + mem.HighRamSize : mem.LowRamSize;
        for (ulong dest = 0; dest + old.Span <= top; dest += Align)
        {
            // The running kernel sits at its own link address; the loaded copy is elsewhere.
            if (dest == old.Low || !mem.Read(dest + at, buffer)) continue;
            if (buffer.AsSpan().SequenceEqual(probe)) found.Add(dest);
        }
        if (found.Count != 1)
            throw new BootException(found.Count == 0 ? "--next-kernel: the snapshot has no loaded kernel to replace (is it taken at a kexec jump?)"
                : $"--next-kernel: the loaded kernel appears {found.Count} times in RAM; cannot tell which one the jump enters");
        ulong d = found[0];
        if (!mem.Write(d, new byte[old.Span])) throw new BootException($"--next-kernel: 0x{d:x}+{old.Span:x} is not RAM");
        foreach (var s in @new.Elf.Segments.Where(s => s.Type == ElfSegment.Load && s.FileSize > 0))
            mem.Write(d + (s.PhysicalAddress - @new.Low), @new.Elf.SegmentData(s));
        return d;
    }
}
