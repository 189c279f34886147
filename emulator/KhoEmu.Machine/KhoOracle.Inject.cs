using KhoEmu.Machine.Handover;

namespace KhoEmu.Machine;

/// <summary>Fault injection (--kho-inject): one byte of a preserved page flipped at the jump, after hashing.</summary>
public sealed unsafe partial class KhoOracle
{
    private ulong _injectedPage = ulong.MaxValue;

    private void InjectAtJump(KhoJump jump)
    {
        if (Inject is not { } inject) return;
        var h = jump.Handover;
        ulong? page = inject.Page >> 12 ?? AutoTarget(h);
        if (page is not { } p || !_preservedPages.Contains(p))
        {
            jump.InjectedOwner = page is null ? "no preserved page to flip" : $"0x{page << 12:x} is not preserved; nothing flipped";
            return;
        }
        byte* b = memory.RamPointer((p << 12) + (ulong)inject.Offset);
        if (b == null) return;
        *b ^= 0xFF;
        _injectedPage = p;
        jump.InjectedAt = (p << 12) + (ulong)inject.Offset;
        jump.InjectedOwner = h.OwnerOf(p) ?? "preserved page";
    }

    private ulong? AutoTarget(KhoHandover h)
    {
        // The session with the most files, the later one on a tie: the selftests create their state session first.
        // Files a device wrote by DMA before the jump (a ring) are passed over: the device may legitimately write
        // the flipped byte again, which would hide the injection from the oracle.
        foreach (var (s, _) in h.Sessions.Select((s, i) => (s, i)).OrderByDescending(x => x.s.Files.Count).ThenByDescending(x => x.i))
            foreach (var f in s.Files)
                if (f.DataPages.Count > 0 && !_deviceWrittenBeforeJump.Contains(f.DataPages[0])) return f.DataPages[0];
        foreach (var b in h.Blocks)
            if (h.OwnerOf(b.Phys >> 12) is { } o && o.StartsWith("kho_test folio", StringComparison.Ordinal)) return b.Phys >> 12;
        foreach (var b in h.Blocks)
            if (h.OwnerOf(b.Phys >> 12) is null) return b.Phys >> 12;
        return h.Blocks.Count > 0 ? h.Blocks[0].Phys >> 12 : null;
    }

    private string InjectedText(ulong page) => page == _injectedPage ? "; this is the byte --kho-inject flipped" : "";
}
