using KhoEmu.Machine.Handover;
using KhoEmu.Memory;

namespace KhoEmu.Machine;

/// <summary>
/// Linux's handover, found without a guest port. Trigger: the next kernel's first instruction is always the start
/// of a newly decoded block (relocate_kernel has just copied it into place, which drops any block decoded there), so
/// the oracle looks only at new blocks: one decoded in 64-bit mode at CPL 0 whose RSI is a boot_params with a
/// SETUP_KEXEC_KHO setup_data, at an address 0x200 past a multiple of the image's kernel_alignment (the 64-bit
/// entry kexec-bzimage64.c sets: kernel_load_addr + 0x200), is the jump. It is armed from the start and again by
/// each reboot(LINUX_REBOOT_CMD_KEXEC) system call and disarmed by a jump, so the decompressor's jump into the
/// decompressed kernel (also RSI = boot_params) is not taken for a second one.
/// At the jump every preserved page is hashed and watched (<see cref="PageWatch"/>): the first access of the new
/// kernel to each is checked against its hash; until the new kernel first reads the preserved-memory map's root node
/// (kho_memory_init_early's walk, after which it knows where preserved memory is), every write outside the scratch
/// areas and the kernel image is reported.
/// </summary>
public sealed unsafe partial class KhoOracle
{
    public const ulong RebootSyscall = 169, RebootMagic1 = 0xFEE1_DEAD, RebootCmdKexec = 0x4558_4543;
    private const int MaxLinuxViolations = 200;

    private readonly System.Diagnostics.Stopwatch _rebootClock = new();
    private ulong _rebootInstruction;
    private long _deviceWritesAtReboot;
    private bool _linuxArmed = true;
    private KhoJump? _openJump;          // the last jump whose init has not been seen yet
    private KhoHandover? _linux;        // the handover being watched
    private readonly Dictionary<ulong, ulong> _untouched = [];   // preserved page → hash at the jump
    private ulong _mapRootPage;
    private bool _mapRead;
    private Func<Cpu.Cpu>? _currentCpu;
    private int _linuxViolationsDropped;

    /// <summary>Look for Linux kexec jumps (on by default; off to measure the oracle's cost).</summary>
    public bool LinuxDetection { get; set; } = true;

    /// <summary>Names the writer's function in reports (the vmlinux symbols, when given).</summary>
    public Elf.SymbolTable? Symbols { get; set; }

    /// <summary>Preserved pages the new kernel has touched (each checked against its hash at that moment).</summary>
    public long TouchedPages { get; private set; }

    /// <summary>Hooks the oracle into a CPU (system calls, newly decoded code) and the memory watch; with several
    /// CPUs each is attached, and <paramref name="currentCpu"/> names the one running (the writer of a watched page).</summary>
    public void Attach(Cpu.Cpu cpu, Func<Cpu.Cpu>? currentCpu = null)
    {
        _currentCpu = currentCpu ?? (() => cpu);
        cpu.SyscallObserver = OnSyscall;
        cpu.NewCodeObserver = OnNewCode;
    }

    private void OnSyscall(Cpu.Cpu cpu)
    {
        if (cpu.CurrentPrivilegeLevel != 3) return;
        if (_openJump is { InitInstruction: 0 } j)
        {
            j.InitInstruction = instructionCount();
            j.DeviceWritesAtInit = DeviceWrites;
            // Host time without the oracle's own read-and-hash at the jump (the guest was not running then).
            j.BeginToInitWall = _rebootInstruction != 0 ? _rebootClock.Elapsed - j.OracleWall : TimeSpan.Zero;
            _openJump = null;
        }
        if (cpu.GetGpr(Cpu.Cpu.RAX) == RebootSyscall && (uint)cpu.GetGpr(Cpu.Cpu.RDI) == RebootMagic1
            && (uint)cpu.GetGpr(Cpu.Cpu.RDX) == RebootCmdKexec)
        {
            _rebootInstruction = instructionCount();
            _deviceWritesAtReboot = DeviceWrites;
            _rebootClock.Restart();
            _linuxArmed = true;
        }
    }

    private void OnNewCode(Cpu.Cpu cpu, ulong phys)
    {
        if (!_linuxArmed || !LinuxDetection || cpu.CurrentMode != Cpu.State.CpuMode.Long64 || cpu.CurrentPrivilegeLevel != 0) return;
        ulong rsi = cpu.GetGpr(Cpu.Cpu.RSI), rip = cpu.InstructionPointer;
        var g = new GuestView(memory);
        if (!g.U32(rsi + Boot.BzImageHeader.OffKernelAlignment, out uint align)) return;
        if (align < 4096 || (align & (align - 1)) != 0 || ((rip - Boot.BzImageHeader.Entry64Offset) & (align - 1)) != 0) return;
        if (LinuxKhoReader.FindKhoData(g, rsi) == 0) return;
        _linuxArmed = false;
        NoteLinuxEntry(rsi, rip);
    }

    /// <summary>
    /// A Linux kernel starts at <paramref name="entry"/> with RSI = <paramref name="bootParams"/> (what the trigger
    /// found; tests call it directly): read and hash the handover, inject, and start watching.
    /// </summary>
    public void NoteLinuxEntry(ulong bootParams, ulong entry)
    {
        var wall = System.Diagnostics.Stopwatch.StartNew();
        var atJump = _rebootClock.Elapsed;
        Handovers++;
        // A kexec from a kernel that itself came from a Linux kexec: the earlier handover's untouched pages are judged
        // now, as at the end of a run, so every handover's figures count.
        CloseLinuxHandover();
        _unrestoredEarlier += _pending.Count;
        _pending.Clear();
        _dmaPages.Clear();
        _preservedPages.Clear();
        _afterHandover = true;
        var h = LinuxKhoReader.Read(memory, bootParams, entry);
        _linux = _lastHandover = h;
        NoteProblems(h.Problems);
        PreservedBlocks += h.Blocks.Count;
        PreservedBytes += h.PreservedBytes;
        foreach (var b in h.Blocks)
            for (ulong page = b.Phys >> 12, end = page + (1UL << b.Order); page < end; page++)
                if (_preservedPages.Add(page) && memory.RamPointer(page << 12) != null)
                    _untouched[page] = HashBlocks ? Hash(page << 12, 4096) : 0;
        var jump = new KhoJump
        {
            Index = _jumps.Count + 1, Kind = "linux", Handover = h,
            BeginInstruction = _rebootInstruction, JumpInstruction = instructionCount(),
            BeginToJumpWall = _rebootInstruction != 0 ? atJump : TimeSpan.Zero,
            DeviceWritesAtBegin = _deviceWritesAtReboot, DeviceWritesAtJump = DeviceWrites,
        };
        InjectAtJump(jump);
        Watch(h);
        jump.OracleWall = wall.Elapsed;
        OnJump(jump);
    }

    private void OnJump(KhoJump jump)
    {
        _jumps.Add(jump);
        _openJump = jump;
        JumpSeen?.Invoke(jump);
    }

    /// <summary>Watches every preserved page (any access) and, until the map is read, every other page outside the
    /// scratch areas and the kernel image (writes).</summary>
    private void Watch(KhoHandover h)
    {
        var w = memory.Watch;
        ulong limit = (memory.HighRamSize > 0 ? PhysicalMemory.HighMemoryBase + memory.HighRamSize : memory.LowRamSize) >> 12;
        w.Start(limit);
        w.Sink = OnWatchedAccess;
        // With no readable map the new kernel has nothing to wait for (it gives up on KHO), so no early-write window.
        _mapRead = h.MapRoot == 0 || memory.RamPointer(h.MapRoot) == null;
        _mapRootPage = h.MapRoot >> 12;
        if (!_mapRead)
        {
            w.WatchWrites(0, limit, true);
            foreach (var s in h.Scratch) w.WatchWrites(s.Address >> 12, (s.End + 4095) >> 12, false);
            if (h.KernelImage.Size > 0) w.WatchWrites(h.KernelImage.Address >> 12, (h.KernelImage.End + 4095) >> 12, false);
            w.WatchAccess(_mapRootPage);
        }
        foreach (ulong page in _untouched.Keys) w.WatchAccess(page);
        w.Arm();
    }

    private void StopWatching()
    {
        memory.Watch.Stop();
        _untouched.Clear();
        _linux = null;
    }

    private void OnWatchedAccess(ulong gpa, int size, bool write)
    {
        ulong page = gpa >> 12;
        var w = memory.Watch;
        if (!_mapRead && page == _mapRootPage && !write)
        {
            _mapRead = true;
            if (_openJump is { } j) j.MapReadInstruction = instructionCount();
            if (_jumps.Count > 0 && _jumps[^1].MapReadInstruction == 0) _jumps[^1].MapReadInstruction = instructionCount();
            w.WatchWrites(0, ulong.MaxValue, false);
            if (!_untouched.ContainsKey(page)) w.UnwatchAccess(page);
        }
        if (_untouched.Remove(page, out ulong hash))
        {
            TouchedPages++;
            w.UnwatchAccess(page);
            if (HashBlocks && !_dmaPages.Contains(page) && Hash(page << 12, 4096) != hash)
                LinuxViolation($"preserved page 0x{page << 12:x}{OwnerText(page << 12)} changed between the kexec jump and the new kernel's first "
                    + $"{(write ? "write" : "read")} of it (at {Writer()}){InjectedText(page)}");
        }
        if (write && !_mapRead && w.IsWriteWatched(page))
        {
            w.UnwatchWrites(page);
            LinuxViolation(_preservedPages.Contains(page)
                ? $"write to preserved page 0x{gpa:x}{OwnerText(gpa)} by {Writer()} before the new kernel read the preserved-memory map"
                : $"early-boot write to 0x{gpa:x} outside the KHO scratch areas and the kernel image by {Writer()}, before the new kernel read the preserved-memory map");
        }
    }

    private void LinuxViolation(string text)
    {
        if (_violations.Count < MaxLinuxViolations) _violations.Add(text);
        else if (_linuxViolationsDropped++ == 0) _violations.Add("more oracle violations follow; only the first ones are listed");
    }

    /// <summary>The instruction being executed, with its function when symbols are known.</summary>
    private string Writer()
    {
        if (_currentCpu is null) return "an unknown writer";
        ulong rip = _currentCpu().CurrentInstructionAddress;
        return Symbols?.Describe(rip) is { } name ? $"RIP 0x{rip:x} ({name})" : $"RIP 0x{rip:x}";
    }

    private string OwnerText(ulong phys) => _lastHandover?.OwnerOf(phys >> 12) is { } o ? $" ({o})" : "";

    /// <summary>
    /// The end of the run (the machine calls this when the guest stops): preserved pages the new kernel never touched
    /// are checked against their hashes now, so damage to a page nobody read still counts.
    /// </summary>
    public void Finish() => CloseLinuxHandover();

    /// <summary>Ends the watch of the Linux handover in progress (at the run's end or the next Linux jump): its
    /// untouched pages are checked against their hashes and counted.</summary>
    private void CloseLinuxHandover()
    {
        if (_linux is null) return;
        foreach (var (page, hash) in _untouched)
            if (HashBlocks && !_dmaPages.Contains(page) && Hash(page << 12, 4096) != hash)
                LinuxViolation($"preserved page 0x{page << 12:x}{OwnerText(page << 12)} changed after the kexec jump (never touched by the new kernel){InjectedText(page)}");
        UntouchedAtFinish += _untouched.Count;
        StopWatching();
    }

    /// <summary>Preserved pages the new kernel had not touched when its handover's watch ended (the end of the run, or
    /// the next kexec), summed over every Linux handover of the run.</summary>
    public long UntouchedAtFinish { get; private set; }
}
