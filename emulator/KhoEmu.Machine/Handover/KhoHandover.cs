namespace KhoEmu.Machine.Handover;

/// <summary>
/// What one kexec handed over, read from guest memory at the jump: the KHO format, the root FDT, the scratch areas,
/// every preserved block, the pages of the map itself, the sub-trees and the LUO sessions. <see cref="Problems"/>
/// lists what could not be read (the parsers stop a walk there and keep what they had). Every preserved page that a
/// parser could attribute has an owner (<see cref="OwnerOf"/>), so a report can say whose page was damaged.
/// </summary>
public sealed class KhoHandover
{
    private readonly Dictionary<ulong, string> _owners = [];

    /// <summary>"kho-v4" (Linux 7.3) or "kho-v1" (the project's kernel); what the root FDT's compatible said.</summary>
    public string Format { get; set; } = "";
    public ulong FdtAddress { get; set; }
    public ulong FdtSize { get; set; }
    /// <summary>The map's root: the radix tree's root node (kho-v4) or the first chunk (kho-v1).</summary>
    public ulong MapRoot { get; set; }
    /// <summary>Physical address of boot_params (Linux) or of the KHO descriptor (kho-v1).</summary>
    public ulong BootData { get; set; }
    /// <summary>The next kernel's entry and the range its image may occupy (Linux: load address + init_size).</summary>
    public ulong KernelEntry { get; set; }
    public KhoRange KernelImage { get; set; }
    public ulong LiveUpdateNumber { get; set; }
    public string? LuoCompatible { get; set; }

    public List<KhoRange> Scratch { get; } = [];
    public List<KhoBlock> Blocks { get; } = [];
    /// <summary>Pages of the preserved-memory map itself (radix nodes and leaves, or chunks and bitmaps).</summary>
    public List<ulong> MapPages { get; } = [];
    public List<KhoSubtree> Subtrees { get; } = [];
    public List<LuoSession> Sessions { get; } = [];
    public List<string> Problems { get; } = [];

    /// <summary>Block order by start address, built on first use by parsers that need a folio's size.</summary>
    internal Dictionary<ulong, int>? BlockIndex { get; set; }

    public long PreservedPages => Blocks.Sum(b => 1L << b.Order);
    public long PreservedBytes => Blocks.Sum(b => (long)b.Size);

    public void Problem(string text)
    {
        if (Problems.Count < 50) Problems.Add(text);
    }

    /// <summary>Names the owner of the pages [phys, phys + size); the parsers go from the general to the specific, so
    /// the last name given wins (a memfd's data page over the sub-tree that reaches it).</summary>
    public void Own(ulong phys, ulong size, string owner)
    {
        for (ulong page = phys >> 12; page <= (phys + Math.Max(size, 1) - 1) >> 12 && _owners.Count < 1 << 22; page++)
            _owners[page] = owner;
    }

    /// <summary>The owner of a physical page, or null when no parser claimed it.</summary>
    public string? OwnerOf(ulong page) => _owners.TryGetValue(page, out var o) ? o : null;

    public bool InScratch(ulong phys)
    {
        foreach (var s in Scratch)
            if (s.Contains(phys)) return true;
        return false;
    }
}
