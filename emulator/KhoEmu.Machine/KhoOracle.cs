using System.Runtime.InteropServices;
using KhoEmu.Core;
using KhoEmu.Machine.Handover;
using KhoEmu.Memory;

namespace KhoEmu.Machine;

/// <summary>
/// The host-side KHO oracle, a debug port (0x5A0) the guest kernel reports to (QEMU has nothing there and ignores the
/// writes). At the kexec jump the guest hands over its KHO descriptor: the oracle reads the root FDT and the
/// preserved-memory map from guest memory with the same shared FDT code the guest uses, and hashes every preserved
/// block. Each time the new kernel restores a block it says so: the block must be one that was preserved, restored
/// only once, and unchanged since the jump (so nothing wrote to it before it was restored). Anything else is a
/// violation, listed for the harness.
/// Guest protocol: a 32-bit write of the physical address of a 16-byte command {u32 cmd; u32 order; u64 phys}:
/// cmd 1 = handover (phys = KHO descriptor), cmd 2 = restored (phys, order), cmd 3/4 = blackout begins (reboot entered)
/// / ends (ring 3 has every file back).
/// Linux needs no port: the oracle finds its jump itself (KhoOracle.Linux.cs) and reads its kho-v4 handover.
/// </summary>
public sealed unsafe partial class KhoOracle(PhysicalMemory memory, Func<ulong> instructionCount, Action requestStop) : IPortDevice
{
    public const uint CmdBlackoutBegin = 3, CmdBlackoutEnd = 4;
    private readonly System.Diagnostics.Stopwatch _clock = new();

    /// <summary>Hash preserved blocks at the jump (the oracle check). Off for blackout measurements.</summary>
    public bool HashBlocks { get; set; } = true;
    /// <summary>Stop the machine (resumably) when the blackout begins and ends, for benchmarks that time the gap.</summary>
    public bool StopAtBlackoutMarks { get; set; }
    public ulong BlackoutBeginInstruction { get; private set; }
    public ulong BlackoutInstructions { get; private set; }
    public TimeSpan BlackoutWall { get; private set; }

    public const ushort Port = 0x5A0;
    public const uint CmdHandover = 1, CmdRestored = 2;

    private readonly Dictionary<(ulong Phys, int Order), ulong> _pending = [];
    private readonly HashSet<(ulong Phys, int Order)> _restored = [];
    private readonly List<string> _violations = [];
    private readonly HashSet<ulong> _dmaPages = [];
    private bool _afterHandover;

    /// <summary>Preserved blocks a device legitimately wrote by DMA after the jump (exempt from the unchanged check).</summary>
    public long DeviceWrittenBlocks { get; private set; }

    /// <summary>The IOMMU whose tables every DMA write is checked against (set by the machine).</summary>
    public Devices.Iommu.IntelIommu? Iommu { get; set; }
    private readonly HashSet<(ushort, ulong)> _unmappedWrites = [];

    /// <summary>
    /// A DMA write that reached memory (the IOMMU reports them). Always: while translation is on, the device's page
    /// tables, walked afresh from guest memory, must map the IOVA to that physical page with write permission (a write
    /// through a stale IOTLB entry or anywhere else is outside the device's mappings). After a handover, devices may
    /// only write into preserved memory (their rings): a write anywhere else is a violation.
    /// </summary>
    public void NoteDeviceWrite(ushort sourceId, ulong iova, ulong phys, int length)
    {
        if (Iommu is { TranslationEnabled: true } iommu)
        {
            DmaWritesChecked++;
            bool mapped = iommu.WalkTables(sourceId, iova, out ulong target, out bool writable) && target == phys && writable;
            if (!mapped && _unmappedWrites.Add((sourceId, iova >> 12)))
                _violations.Add($"DMA from {Bdf(sourceId)} wrote 0x{phys:x} through IOVA 0x{iova:x}, which its page tables do not map there writeable");
        }
        DeviceWrites++;
        if (!_afterHandover)
        {
            for (ulong page = phys >> 12; page <= (phys + (ulong)length - 1) >> 12; page++) _deviceWrittenBeforeJump.Add(page);
            return;
        }
        for (ulong page = phys >> 12; page <= (phys + (ulong)length - 1) >> 12; page++)
        {
            if (_dmaPages.Add(page) && !IsPreservedPage(page << 12))
                _violations.Add($"DMA from {Bdf(sourceId)} wrote 0x{page << 12:x} after the jump, outside preserved memory");
        }
    }

    /// <summary>DMA writes checked against the device's page tables (translation on).</summary>
    public long DmaWritesChecked { get; private set; }

    /// <summary>Every DMA write devices made into memory (each jump records the count at its marks).</summary>
    public long DeviceWrites { get; private set; }

    // Pages a device wrote before the first jump: a byte flipped there (flip=auto) could be overwritten legitimately
    // by the device, so the automatic injection target avoids them.
    private readonly HashSet<ulong> _deviceWrittenBeforeJump = [];

    private static string Bdf(ushort sid) => $"{sid >> 8:x2}:{(sid >> 3) & 31:x2}.{sid & 7}";

    private bool IsPreservedPage(ulong phys) => _preservedPages.Contains(phys >> 12);

    private readonly HashSet<ulong> _preservedPages = [];
    private readonly List<KhoJump> _jumps = [];

    /// <summary>Every kexec seen so far, with what it handed over and its blackout.</summary>
    public IReadOnlyList<KhoJump> Jumps => _jumps;

    /// <summary>Raised after each jump was read (the CLI's --kho-report and `kho inspect` print it).</summary>
    public event Action<KhoJump>? JumpSeen;

    /// <summary>A byte flip to inject at the next jumps (null: none).</summary>
    public KhoInjection? Inject { get; set; }

    public int Handovers { get; private set; }
    public long PreservedBlocks { get; private set; }
    public long PreservedBytes { get; private set; }
    public long RestoredBlocks { get; private set; }
    public IReadOnlyList<string> Violations => _violations;
    /// <summary>Preserved blocks never restored, over every handover of the run (a later kexec does not forgive an
    /// earlier one's leftovers: they stay reserved in every kernel after it).</summary>
    public long UnrestoredBlocks => _unrestoredEarlier + _pending.Count;
    private long _unrestoredEarlier;

    /// <summary>Set when a handover could not be read (malformed metadata): recorded, not a violation by itself. The
    /// first such problem of the run (with its jump when it was not the first), and how many more there were.</summary>
    public string? HandoverProblem => _handoverProblems.Count switch
    {
        0 => null,
        1 => _handoverProblems[0],
        int n => $"{_handoverProblems[0]} (+{n - 1} more)",
    };
    private readonly List<string> _handoverProblems = [];

    /// <summary>Records the problems one jump's handover had (see <see cref="HandoverProblem"/>).</summary>
    private void NoteProblems(IReadOnlyList<string> problems)
    {
        string prefix = Handovers > 1 ? $"jump {Handovers}: " : "";
        foreach (var p in problems) _handoverProblems.Add(prefix + p);
    }

    public uint ReadPort(ushort offset, int size) => 0;

    public void WritePort(ushort offset, int size, uint value)
    {
        if (offset != 0 || size != 4) return;
        Span<byte> cmd = stackalloc byte[16];
        if (!memory.Read(value, cmd)) return;
        uint command = MemoryMarshal.Read<uint>(cmd);
        int order = MemoryMarshal.Read<int>(cmd[4..]);
        ulong phys = MemoryMarshal.Read<ulong>(cmd[8..]);
        if (command == CmdHandover) Handover(phys);
        else if (command == CmdRestored) Restored(phys, order);
        else if (command == CmdBlackoutBegin)
        {
            BlackoutBeginInstruction = instructionCount();
            _clock.Restart();
            if (StopAtBlackoutMarks) requestStop();
        }
        else if (command == CmdBlackoutEnd && BlackoutBeginInstruction != 0)
        {
            BlackoutInstructions = instructionCount() - BlackoutBeginInstruction;
            BlackoutWall = _clock.Elapsed;
            if (StopAtBlackoutMarks) requestStop();
        }
    }

    private ulong Hash(ulong phys, ulong size)
    {
        ulong h = 0xCBF2_9CE4_8422_2325UL;
        for (ulong off = 0; off < size; off += 4096)
        {
            byte* p = memory.RamPointer(phys + off);
            if (p == null) return 0;
            var words = new ReadOnlySpan<ulong>(p, 512);
            foreach (ulong w in words) h = (h ^ w) * 0x0000_0100_0000_01B3UL;
        }
        return h;
    }

    private void Handover(ulong descriptor)
    {
        var wall = System.Diagnostics.Stopwatch.StartNew();
        var atJump = _rebootClock.Elapsed;
        Handovers++;
        _unrestoredEarlier += _pending.Count;
        _pending.Clear();
        _restored.Clear();
        _dmaPages.Clear();
        _preservedPages.Clear();
        _afterHandover = true;
        var h = KhoV1Reader.Read(memory, descriptor);
        _lastHandover = h;
        NoteProblems(h.Problems);
        foreach (var b in h.Blocks)
        {
            _pending[(b.Phys, b.Order)] = HashBlocks ? Hash(b.Phys, b.Size) : 0;
            for (ulong page = b.Phys >> 12; page < (b.Phys >> 12) + (1UL << b.Order); page++) _preservedPages.Add(page);
            PreservedBlocks++;
            PreservedBytes += (long)b.Size;
        }
        var jump = new KhoJump
        {
            Index = _jumps.Count + 1, Kind = "khoemu", Handover = h,
            BeginInstruction = _rebootInstruction, JumpInstruction = instructionCount(),
            BeginToJumpWall = _rebootInstruction != 0 ? atJump : TimeSpan.Zero,
            DeviceWritesAtBegin = _deviceWritesAtReboot, DeviceWritesAtJump = DeviceWrites,
        };
        InjectAtJump(jump);
        jump.OracleWall = wall.Elapsed;
        OnJump(jump);
    }

    private KhoHandover? _lastHandover;

    private void Restored(ulong phys, int order)
    {
        if (_restored.Contains((phys, order)))
        {
            _violations.Add($"block 0x{phys:x} (order {order}) restored twice");
            return;
        }
        if (!_pending.Remove((phys, order), out ulong hash))
        {
            _violations.Add($"block 0x{phys:x} (order {order}) restored but it was not in the preserved-memory map");
            return;
        }
        _restored.Add((phys, order));
        RestoredBlocks++;
        bool deviceWritten = false;
        for (ulong page = phys >> 12; page < (phys >> 12) + (1UL << order) && !deviceWritten; page++) deviceWritten = _dmaPages.Contains(page);
        if (deviceWritten) DeviceWrittenBlocks++;
        else if (HashBlocks && Hash(phys, 4096UL << order) != hash)
            _violations.Add($"block 0x{phys:x} (order {order}{(_lastHandover?.OwnerOf(phys >> 12) is { } owner ? ", " + owner : "")}) changed between the kexec jump and its restore");
    }
}
