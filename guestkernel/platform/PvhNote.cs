namespace KhoEmu.Guest.Platform;

/// <summary>The PVH entry note of an ELF kernel (Xen ELF note type 18, XEN_ELFNOTE_PHYS32_ENTRY).</summary>
public static unsafe class PvhNote
{
    /// <summary>The 32-bit entry point in a PT_NOTE segment of <paramref name="size"/> bytes, or 0 when it has none.</summary>
    public static ulong FindEntry(byte* notes, ulong size)
    {
        ulong p = 0;
        while (p + 12 <= size)
        {
            uint namesz = *(uint*)(notes + p), descsz = *(uint*)(notes + p + 4), type = *(uint*)(notes + p + 8);
            ulong name = p + 12, desc = name + ((namesz + 3) & ~3u);
            if (desc + descsz > size) break;
            if (type == 18 && namesz == 4 && notes[name] == 'X' && notes[name + 1] == 'e' && notes[name + 2] == 'n')
                return descsz >= 8 ? *(ulong*)(notes + desc) : *(uint*)(notes + desc);
            p = desc + ((descsz + 3) & ~3u);
        }
        return 0;
    }
}
