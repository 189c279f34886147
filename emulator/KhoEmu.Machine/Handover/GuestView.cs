using KhoEmu.Memory;

namespace KhoEmu.Machine.Handover;

/// <summary>
/// Bounds-checked reads of guest RAM for the handover parsers: every pointer the guest handed over is checked to lie
/// in RAM (the whole range, contiguous in the host mapping) before it is dereferenced, so a bad pointer is a false
/// return, never a host fault.
/// </summary>
public readonly unsafe struct GuestView(PhysicalMemory memory)
{
    public PhysicalMemory Memory => memory;

    /// <summary>A host pointer to [phys, phys + length) when all of it is RAM; null otherwise.</summary>
    public byte* Range(ulong phys, ulong length)
    {
        if (length == 0 || phys + length < phys) return null;
        byte* p = memory.RamPointer(phys);
        if (p == null || memory.RamPointer(phys + length - 1) != p + (length - 1)) return null;
        return p;
    }

    public bool U64(ulong phys, out ulong value)
    {
        byte* p = Range(phys, 8);
        value = p == null ? 0 : *(ulong*)p;
        return p != null;
    }

    public bool U32(ulong phys, out uint value)
    {
        byte* p = Range(phys, 4);
        value = p == null ? 0 : *(uint*)p;
        return p != null;
    }

    /// <summary>A NUL-terminated string of at most <paramref name="max"/> bytes, printable ASCII only (others as '?').</summary>
    public string? CString(ulong phys, int max)
    {
        byte* p = Range(phys, (ulong)max);
        if (p == null) return null;
        return Text(p, max);
    }

    public static string Text(byte* p, int max)
    {
        var chars = new System.Text.StringBuilder();
        for (int i = 0; i < max && p[i] != 0; i++) chars.Append(p[i] is >= 0x20 and < 0x7F ? (char)p[i] : '?');
        return chars.ToString();
    }
}
