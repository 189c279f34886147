namespace KhoEmu.Cpu.Mmu;

/// <summary>
/// One software-TLB slot for a 4 KiB linear page. A tag is the page's linear address with bit 0 set; each access kind
/// has its own tag so a page can be readable without being writable. <see cref="Host"/> is non-zero only for RAM,
/// which enables the pointer fast path; other pages keep only the physical page number.
/// </summary>
internal struct TlbEntry
{
    public ulong ReadTag, WriteTag, ExecTag;
    public nint Host;
    public ulong PhysPage;
}
