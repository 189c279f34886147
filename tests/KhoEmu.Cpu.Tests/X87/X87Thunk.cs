using System.Runtime.InteropServices;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Cpu.Tests.X87;

/// <summary>
/// A native x87 stub assembled with Iced: FNINIT, FLDCW from the block, the operation's body, FNINIT again (so no
/// unmasked exception stays pending in the test process), RET. RDI points at an <see cref="X87Block"/>.
/// </summary>
public sealed unsafe class X87Thunk : IDisposable
{
    private const int PageSize = 4096;
    private readonly byte* _page;
    private readonly delegate* unmanaged<X87Block*, void> _entry;

    public X87Thunk(Action<Assembler> body)
    {
        _page = ExecutableMemory.Map(PageSize);
        var a = new Assembler(64);
        a.fninit();
        a.fldcw(__word_ptr[rdi + X87Block.CwOffset]);
        body(a);
        a.fninit();
        a.ret();
        using var ms = new MemoryStream();
        a.Assemble(new StreamCodeWriter(ms), (ulong)_page);
        byte[] code = ms.ToArray();
        if (code.Length > PageSize) throw new InvalidOperationException("x87 thunk too long");
        code.CopyTo(new Span<byte>(_page, code.Length));
        _entry = (delegate* unmanaged<X87Block*, void>)_page;
    }

    public void Run(X87Block* block) => _entry(block);

    public void Dispose() => ExecutableMemory.Unmap(_page, PageSize);

    // Operand addresses inside the block, for the op bodies.
    public static AssemblerMemoryOperand A(int size) => Mem(size, X87Block.AOffset);
    public static AssemblerMemoryOperand B(int size) => Mem(size, X87Block.BOffset);
    public static AssemblerMemoryOperand R1(int size) => Mem(size, X87Block.R1Offset);
    public static AssemblerMemoryOperand R2(int size) => Mem(size, X87Block.R2Offset);
    public static AssemblerMemoryOperand SwSlot => __word_ptr[rdi + X87Block.SwOffset];
    public static AssemblerMemoryOperand RflagsSlot => __qword_ptr[rdi + X87Block.FlagsOffset];

    private static AssemblerMemoryOperand Mem(int size, int offset) => size switch
    {
        2 => __word_ptr[rdi + offset],
        4 => __dword_ptr[rdi + offset],
        8 => __qword_ptr[rdi + offset],
        _ => __tword_ptr[rdi + offset],
    };
}

/// <summary>The memory a thunk reads and writes: control word, two operands, two results, status word, RFLAGS.</summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
public struct X87Block
{
    public const int CwOffset = 0, AOffset = 16, BOffset = 32, R1Offset = 48, R2Offset = 64, SwOffset = 80, FlagsOffset = 88;
    [FieldOffset(CwOffset)] public ushort Cw;
    [FieldOffset(AOffset)] public ulong A0;
    [FieldOffset(AOffset + 8)] public ulong A1;
    [FieldOffset(BOffset)] public ulong B0;
    [FieldOffset(BOffset + 8)] public ulong B1;
    [FieldOffset(R1Offset)] public ulong R10;
    [FieldOffset(R1Offset + 8)] public ulong R11;
    [FieldOffset(R2Offset)] public ulong R20;
    [FieldOffset(R2Offset + 8)] public ulong R21;
    [FieldOffset(SwOffset)] public ushort Sw;
    [FieldOffset(FlagsOffset)] public ulong Flags;
}
