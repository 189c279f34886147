using KhoEmu.Machine.Board;

namespace KhoEmu.Machine.Acpi;

/// <summary>
/// The machine's ACPI tables as QEMU serves them through fw_cfg: <c>etc/acpi/tables</c> (FACS, DSDT, FADT, MADT, HPET,
/// MCFG, DMAR, RSDT, XSDT, with pointers holding offsets into the file), <c>etc/acpi/rsdp</c> (the RSDP, revision 2),
/// and <c>etc/table-loader</c>, the script that allocates both, turns the offsets into addresses and sets the checksums.
/// Checksum bytes are zero in the files, as QEMU leaves them (OVMF computes them over a zero byte).
/// </summary>
public sealed class AcpiTables
{
    public const string TablesFile = "etc/acpi/tables", RsdpFile = "etc/acpi/rsdp", LoaderFile = "etc/table-loader";

    private readonly List<TableLoaderCommand> _commands = [];
    private readonly List<byte> _tables = [];
    private readonly Dictionary<string, int> _offsets = [];

    /// <param name="apicIds">The processors' APIC IDs for the MADT; null for one processor with ID 0.</param>
    /// <param name="interruptRemapping">Whether the VT-d unit advertises interrupt remapping (the DMAR's INTR_REMAP flag).</param>
    public AcpiTables(IReadOnlyList<int>? apicIds = null, bool interruptRemapping = false)
    {
        _commands.Add(TableLoaderCommand.Allocate(TablesFile, 64, TableLoaderCommand.ZoneHigh));
        Add("FACS", Fadt.Facs(), align: 64, checksum: false);
        Add("DSDT", Dsdt.Build());
        Add("FACP", Fadt.Build(), pointers: [(Fadt.FirmwareCtrlOffset, 4, "FACS"), (Fadt.DsdtOffset, 4, "DSDT"), (Fadt.XDsdtOffset, 8, "DSDT")]);
        string[] listed = ["FACP", "APIC", "HPET", "MCFG", "DMAR"];
        Add("APIC", Madt.Build(apicIds));
        Add("HPET", SmallTables.Hpet());
        Add("MCFG", SmallTables.Mcfg());
        Add("DMAR", SmallTables.Dmar(interruptRemapping));
        Add("RSDT", RootTable("RSDT", 1, listed, 4), pointers: Entries(listed, 4));
        Add("XSDT", RootTable("XSDT", 1, listed, 8), pointers: Entries(listed, 8));
        Tables = [.. _tables];

        Rsdp = SmallTables.Rsdp((uint)_offsets["RSDT"], (ulong)_offsets["XSDT"]);
        _commands.Add(TableLoaderCommand.Allocate(RsdpFile, 16, TableLoaderCommand.ZoneFSegment));
        _commands.Add(TableLoaderCommand.AddPointer(RsdpFile, SmallTables.RsdpRsdtOffset, 4, TablesFile));
        _commands.Add(TableLoaderCommand.AddPointer(RsdpFile, SmallTables.RsdpXsdtOffset, 8, TablesFile));
        _commands.Add(TableLoaderCommand.AddChecksum(RsdpFile, SmallTables.RsdpChecksumOffset, 0, 20));
        _commands.Add(TableLoaderCommand.AddChecksum(RsdpFile, SmallTables.RsdpExtendedChecksumOffset, 0, 36));
        Loader = TableLoader.Serialize(_commands);
    }

    /// <summary>The contents of <see cref="TablesFile"/>.</summary>
    public byte[] Tables { get; }
    /// <summary>The contents of <see cref="RsdpFile"/>.</summary>
    public byte[] Rsdp { get; }
    /// <summary>The contents of <see cref="LoaderFile"/>.</summary>
    public byte[] Loader { get; }
    public IReadOnlyList<TableLoaderCommand> Commands => _commands;
    /// <summary>Offset of each table (by signature) in <see cref="Tables"/>.</summary>
    public IReadOnlyDictionary<string, int> Offsets => _offsets;

    public IReadOnlyDictionary<string, byte[]> Files => new Dictionary<string, byte[]> { [TablesFile] = Tables, [RsdpFile] = Rsdp };

    /// <summary>
    /// Appends a table (aligned), its pointers (offset in the table, width, target table) and then its checksum command:
    /// the loader must patch the pointers before it sums the table.
    /// </summary>
    private void Add(string signature, byte[] table, int align = 4, bool checksum = true, (int At, byte Size, string Target)[]? pointers = null)
    {
        while (_tables.Count % align != 0) _tables.Add(0);
        int offset = _tables.Count;
        _offsets[signature] = offset;
        if (checksum) table[AcpiTableWriter.ChecksumOffset] = 0;
        _tables.AddRange(table);
        foreach (var (at, size, target) in pointers ?? []) Pointer(offset + at, size, target);
        if (checksum)
            _commands.Add(TableLoaderCommand.AddChecksum(TablesFile, (uint)(offset + AcpiTableWriter.ChecksumOffset), (uint)offset, (uint)table.Length));
    }

    private static (int At, byte Size, string Target)[] Entries(string[] targets, byte size) =>
        [.. targets.Select((t, i) => (AcpiTableWriter.HeaderLength + size * i, size, t))];

    /// <summary>Stores the target table's offset at <paramref name="at"/> and asks the loader to add the file's address.</summary>
    private void Pointer(int at, byte size, string target)
    {
        ulong v = (ulong)_offsets[target];
        for (int i = 0; i < size; i++) _tables[at + i] = (byte)(v >> (8 * i));
        _commands.Add(TableLoaderCommand.AddPointer(TablesFile, (uint)at, size, TablesFile));
    }

    private static byte[] RootTable(string signature, byte revision, string[] entries, int size)
    {
        var t = new AcpiTableWriter(signature, revision);
        foreach (var _ in entries) t.Zeros(size);                // offsets, written by Add
        return t.Finish();
    }

    /// <summary>
    /// Runs the table-loader on the host for direct boot: the tables go to the E-segment (e820 ACPI), the RSDP to the
    /// start of the F-segment (where a kernel's scan of 0xE0000-0xFFFFF finds it). Returns the RSDP's address.
    /// </summary>
    public ulong InstallDirect(Memory.PhysicalMemory memory)
    {
        var placed = TableLoader.Run(_commands, Files, (file, size, align, zone) =>
        {
            var region = zone == TableLoaderCommand.ZoneFSegment ? Q35Layout.FSegment : Q35Layout.DirectBootAcpiTables;
            if ((ulong)size > region.Size) throw new InvalidOperationException($"{file} ({size} bytes) does not fit at 0x{region.Base:x}");
            return region.Base;
        });
        foreach (var (address, data) in placed.Values)
            if (!memory.Write(address, data)) throw new InvalidOperationException($"ACPI tables at 0x{address:x} are not in RAM");
        return placed[RsdpFile].Address;
    }
}
