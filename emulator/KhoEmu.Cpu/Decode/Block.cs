namespace KhoEmu.Cpu.Decode;

/// <summary>A straight run of decoded instructions starting at one physical address, ending at a branch or page end.</summary>
internal sealed class Block
{
    public required ulong PhysStart;
    public required int Bitness;
    public required DecodedOp[] Ops;
    public bool Valid = true;
}
