using Iced.Intel;

namespace KhoEmu.Cpu.Decode;

/// <summary>
/// Decoded blocks keyed by physical start address and bitness: a direct-mapped table for the fast lookup plus a
/// per-page index so that a write to a code page drops exactly the blocks decoded from it.
/// </summary>
internal sealed class BlockCache
{
    private const int SlotBits = 16;
    public const int MaxBlockInstructions = 64;

    private readonly Cpu _cpu;
    private readonly Block?[] _slots = new Block?[1 << SlotBits];
    private readonly Dictionary<ulong, List<Block>> _byPage = [];
    private readonly byte[] _fetch = new byte[4096 + 16];

    public BlockCache(Cpu cpu) => _cpu = cpu;

    public long Decoded { get; private set; }
    public long Invalidations { get; private set; }

    private static int Slot(ulong phys, int bitness) =>
        (int)((phys ^ (phys >> SlotBits) ^ (ulong)bitness) & ((1 << SlotBits) - 1));

    public Block? Lookup(ulong phys, int bitness)
    {
        var b = _slots[Slot(phys, bitness)];
        return b is not null && b.PhysStart == phys && b.Bitness == bitness ? b : null;
    }

    /// <summary>
    /// Decodes a block at <paramref name="phys"/> (linear <paramref name="rip"/>). Instructions stay inside the page;
    /// one that crosses into the next page is decoded alone from bytes fetched through translation and not cached.
    /// Returns null when fetching faulted (the fault is pending on the CPU).
    /// </summary>
    public Block? Decode(ulong phys, ulong rip, ulong linear, int bitness)
    {
        int inPage = (int)(4096 - (phys & 0xFFF));
        var mem = _cpu.Memory;
        if (!mem.Read(phys, _fetch.AsSpan(0, inPage))) return null;

        var decoder = Iced.Intel.Decoder.Create(bitness, new ByteArrayCodeReader(_fetch, 0, inPage), rip);
        var ops = new List<DecodedOp>(8);
        ulong end = rip + (ulong)inPage;
        while (ops.Count < MaxBlockInstructions && decoder.IP < end)
        {
            decoder.Decode(out Instruction insn);
            if (decoder.LastError == DecoderError.NoMoreBytes)
            {
                if (ops.Count > 0) break;
                return DecodeCrossing(linear, rip, bitness);
            }
            var op = OpBuilder.Build(insn, _cpu.Model);
            op.Fop = X87Opcode.Compute(_fetch.AsSpan((int)(insn.IP - rip), insn.Length), bitness);
            ops.Add(op);
            if (EndsBlock(insn)) break;
        }
        Decoded++;
        var block = new Block { PhysStart = phys, Bitness = bitness, Ops = [.. ops] };
        _slots[Slot(phys, bitness)] = block;
        ulong page = phys >> 12;
        if (!_byPage.TryGetValue(page, out var list)) _byPage[page] = list = [];
        list.Add(block);
        mem.MarkCodePage(page); // every processor's write translations of the page are dropped
        return block;
    }

    private Block? DecodeCrossing(ulong linear, ulong rip, int bitness)
    {
        var bytes = new byte[15];
        for (int i = 0; i < bytes.Length; i++)
        {
            if (!_cpu.Translate(linear + (ulong)i, AccessKind.Execute, out ulong pa))
            {
                // Fault only if the instruction really needs the unreachable byte.
                _cpu.ClearFault();
                var d = Iced.Intel.Decoder.Create(bitness, new ByteArrayCodeReader(bytes, 0, i), rip);
                d.Decode(out Instruction partial);
                if (d.LastError != DecoderError.NoMoreBytes)
                    return new Block { PhysStart = ulong.MaxValue, Bitness = bitness, Ops = [OpBuilder.Build(partial, _cpu.Model)] };
                _cpu.Translate(linear + (ulong)i, AccessKind.Execute, out _);
                return null;
            }
            bytes[i] = (byte)_cpu.Memory.ReadPhys(pa, 1);
        }
        var decoder = Iced.Intel.Decoder.Create(bitness, new ByteArrayCodeReader(bytes), rip);
        decoder.Decode(out Instruction insn);
        var op = OpBuilder.Build(insn, _cpu.Model);
        op.Fop = X87Opcode.Compute(bytes.AsSpan(0, insn.Length), bitness);
        return new Block { PhysStart = ulong.MaxValue, Bitness = bitness, Ops = [op] };
    }

    private static bool EndsBlock(in Instruction insn) => insn.FlowControl != FlowControl.Next
        || insn.Mnemonic is Mnemonic.Hlt or Mnemonic.Sti or Mnemonic.Popf or Mnemonic.Cli or Mnemonic.Wrmsr
            or Mnemonic.Lgdt or Mnemonic.Lidt or Mnemonic.Ltr or Mnemonic.Invlpg or Mnemonic.Cpuid;

    /// <summary>Drops every block decoded from physical page <paramref name="page"/>.</summary>
    public void InvalidatePage(ulong page)
    {
        if (!_byPage.Remove(page, out var list)) return;
        foreach (var b in list)
        {
            b.Valid = false;
            int s = Slot(b.PhysStart, b.Bitness);
            if (ReferenceEquals(_slots[s], b)) _slots[s] = null;
        }
        Invalidations++;
        _cpu.Memory.CodePages.Remove(page);
    }

    public void Clear()
    {
        foreach (var page in _byPage.Keys.ToList()) InvalidatePage(page);
    }
}
