using System.Globalization;

namespace KhoEmu.Machine.Handover;

/// <summary>The human-readable report of a jump (khoemu kho inspect, --report): what was handed over, then the blackout.</summary>
public static class KhoReportText
{
    private static string N(ulong v) => v.ToString("N0", CultureInfo.InvariantCulture);
    private static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);

    private static string Size(ulong bytes) => bytes >= 1 << 20 && bytes % (1 << 20) == 0 ? $"{bytes >> 20} MiB"
        : bytes >= 1024 && bytes % 1024 == 0 ? $"{bytes >> 10} KiB" : $"{bytes} B";

    public static IEnumerable<string> Handover(KhoJump j)
    {
        var h = j.Handover;
        yield return $"jump {j.Index} ({j.Kind}) at instruction {N(j.JumpInstruction)}"
            + (j.Kind == "linux" ? $": entry 0x{h.KernelEntry:x}, boot_params 0x{h.BootData:x}, kernel image 0x{h.KernelImage.Address:x}+{Size(h.KernelImage.Size)}"
                : $": descriptor 0x{h.BootData:x}");
        yield return $"  format {(h.Format.Length > 0 ? h.Format : "?")}, root FDT 0x{h.FdtAddress:x} ({h.FdtSize} bytes), map root 0x{h.MapRoot:x} ({h.MapPages.Count} map pages)";
        foreach (var s in h.Scratch) yield return $"  scratch 0x{s.Address:x}-0x{s.End - 1:x} ({Size(s.Size)})";
        yield return $"  preserved: {N((long)h.Blocks.Count)} blocks, {N(h.PreservedPages)} pages, {Size((ulong)h.PreservedBytes)}";
        foreach (var g in h.Blocks.GroupBy(b => b.Order).OrderBy(g => g.Key))
        {
            var ranges = Ranges(g.Select(b => b.Phys).Order().ToList(), 4096UL << g.Key);
            yield return $"    order {g.Key} ({Size(4096UL << g.Key)}): {N((long)g.Count())} blocks, {Size((ulong)g.Count() * (4096UL << g.Key))} in {ranges.Count} ranges"
                + (ranges.Count <= 8 ? ": " + string.Join(", ", ranges.Select(r => $"0x{r.Address:x}+{Size(r.Size)}")) : "");
        }
        foreach (var t in h.Subtrees)
            yield return $"  sub-tree '{t.Name}': 0x{t.Phys:x} ({t.Size} bytes){(t.Compatible is null ? "" : $", {t.Compatible}")}";
        if (h.LuoCompatible is not null)
            yield return $"  LUO {h.LuoCompatible}: liveupdate-number {h.LiveUpdateNumber}, {h.Sessions.Count} sessions, {h.Sessions.Sum(s => s.Files.Count)} files";
        foreach (var s in h.Sessions)
        {
            yield return $"    session '{s.Name}': {s.Files.Count} files";
            foreach (var f in s.Files)
                yield return $"      token {f.Token}: {f.Compatible}" + (f.Size is { } sz ? $", size {sz}, {f.DataPages.Count} data pages" : $", data 0x{f.Data:x}");
        }
        if (j.InjectedAt is { } at) yield return $"  injected: flipped the byte at 0x{at:x} ({j.InjectedOwner})";
        else if (j.InjectedOwner is { } why) yield return $"  injected: {why}";
        foreach (var p in h.Problems) yield return $"  problem: {p}";
        yield return $"  oracle: read and hashed in {j.OracleWall.TotalMilliseconds:F1} ms";
    }

    public static IEnumerable<string> Blackout(KhoJump j)
    {
        string Wall(TimeSpan t) => $"{t.TotalMilliseconds:F1} ms host";
        if (j.BlackoutToJump is not { } toJump)
        {
            yield return $"jump {j.Index}: blackout unknown (no reboot(LINUX_REBOOT_CMD_KEXEC) system call seen)";
            yield break;
        }
        yield return $"jump {j.Index}: blackout from reboot(KEXEC) to the next kernel's first instruction: {N(toJump)} instructions "
            + $"({toJump / 1e6:F3} ms virtual, {Wall(j.BeginToJumpWall)})";
        if (j.BlackoutToInit is { } toInit)
            yield return $"jump {j.Index}: blackout to the next kernel's first system call from ring 3 (its init): {N(toInit)} instructions "
                + $"({toInit / 1e6:F3} ms virtual, {Wall(j.BeginToInitWall)} without the oracle's read and hash)";
        if (j.MapReadInstruction != 0)
            yield return $"jump {j.Index}: the new kernel read the preserved-memory map {N(j.MapReadInstruction - j.JumpInstruction)} instructions after the jump";
    }

    /// <summary>Coalesces sorted block addresses of one size into contiguous ranges.</summary>
    private static List<KhoRange> Ranges(List<ulong> starts, ulong size)
    {
        var list = new List<KhoRange>();
        foreach (ulong s in starts)
        {
            if (list.Count > 0 && list[^1].End == s) list[^1] = list[^1] with { Size = list[^1].Size + size };
            else list.Add(new KhoRange(s, size));
        }
        return list;
    }
}
