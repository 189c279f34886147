using System.CommandLine;
using KhoEmu.Core.State;
using KhoEmu.Machine.Snapshots;

namespace KhoEmu.Cli;

/// <summary>`khoemu snapshot info FILE`: checks a snapshot file whole and prints its header and section table.</summary>
internal static class SnapshotCommand
{
    public static Command Build()
    {
        var snapshot = new Command("snapshot", "Snapshot files (docs/snapshots.md).");
        var file = new Argument<FileInfo>("file") { Description = "A snapshot written by khoemu run --snapshot." };
        var info = new Command("info", "Check a snapshot file (magic, version, checksum, section table) and print its header and sections. "
            + "Exit code 0 for a valid file, 2 otherwise (with the reason on stderr).") { file };
        info.SetAction(p => Info(p.GetValue(file)!));
        snapshot.Subcommands.Add(info);
        return snapshot;
    }

    private static int Info(FileInfo file)
    {
        SnapshotFile s;
        try { s = SnapshotFile.Read(file.FullName); }
        catch (SnapshotFormatException e)
        {
            Console.Error.WriteLine($"khoemu: {file}: {e.Message}");
            return 2;
        }
        var h = s.Header;
        Console.WriteLine($"file:         {file} ({file.Length} bytes, format version {SnapshotFile.FormatVersion})");
        Console.WriteLine($"producer:     {h.Producer}");
        Console.WriteLine($"taken at:     {h.Reason}");
        Console.WriteLine($"instructions: {h.InstructionCount}");
        Console.WriteLine($"virtual time: {h.VirtualTime} ns");
        Console.WriteLine($"machine:      {h.Machine}");
        if (s.Find(SnapshotConfig.SectionName) is { } c)
        {
            try
            {
                var config = SnapshotConfig.Load(c);
                Console.WriteLine($"command line: {config.CommandLine}");
                Console.WriteLine($"images:       firmware {Size(config.Firmware)}, kernel {Size(config.Kernel)}, initrd {Size(config.Initrd)}, "
                    + $"fw_cfg {(config.FwCfgFiles.Count == 0 ? "none" : string.Join(", ", config.FwCfgFiles.Select(f => $"{f.Name} ({f.Data.Length} bytes)")))}");
            }
            catch (SnapshotFormatException e) { Console.WriteLine($"config:       unreadable: {e.Message}"); }
        }
        int width = Math.Max(8, s.Table.Max(e => e.Name.Length) + 1);
        Console.WriteLine($"{"section".PadRight(width)} version  codec   bytes        stored");
        foreach (var e in s.Table)
            Console.WriteLine($"{e.Name.PadRight(width)} {e.Version,7}  {e.Codec.ToString().ToLowerInvariant(),-6} {e.RawLength,12} {e.StoredLength,12}");
        var ram = s.Sections.Where(x => x.Name.StartsWith(RamSnapshot.Prefix, StringComparison.Ordinal)).ToList();
        long pages = ram.Sum(x => (long)BitConverter.ToUInt32(x.Data, 0));
        Console.WriteLine($"RAM:          {pages} pages saved ({pages * 4096 / 1024} KiB); every other page is zero");
        return 0;
    }

    private static string Size(byte[]? b) => b is null ? "none" : $"{b.Length} bytes";
}
