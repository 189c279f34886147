using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Cpu.Tests;

/// <summary>
/// Runs one instruction on the host CPU: a stub (assembled with Iced) loads 16 GPRs (not RSP) and RFLAGS from a state
/// block, executes the instruction, and stores them back. Memory operands address a host buffer through RBX.
/// </summary>
public sealed unsafe class NativeExecutor : IDisposable
{
    public const int StateSlots = 18; // 16 GPRs, RFLAGS, scratch
    private const int PageSize = 4096;
    private readonly byte* _page;
    private readonly int _insnOffset;
    private readonly int _maxInsn = 16;
    private readonly delegate* unmanaged<ulong*, void> _entry;

    public NativeExecutor()
    {
        _page = ExecutableMemory.Map(PageSize);
        ulong basePtr = (ulong)_page;
        ulong savedRsp = basePtr + 0xF00, savedState = basePtr + 0xF08, scratch = basePtr + 0xF10;
        var pre = new Assembler(64);
        pre.push(rbx); pre.push(rbp); pre.push(r12); pre.push(r13); pre.push(r14); pre.push(r15);
        pre.mov(rax, savedRsp); pre.mov(__qword_ptr[rax], rsp);
        pre.mov(rax, savedState); pre.mov(__qword_ptr[rax], rdi);
        pre.push(__qword_ptr[rdi + 16 * 8]); pre.popfq();
        AssemblerRegister64[] regs = [rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15];
        for (int i = 0; i < 16; i++)
            if (i != 4 && i != 7) pre.mov(regs[i], __qword_ptr[rdi + i * 8]);
        pre.mov(rdi, __qword_ptr[rdi + 7 * 8]);
        byte[] preBytes = Assemble(pre, basePtr);
        _insnOffset = preBytes.Length;
        int postOffset = _insnOffset + _maxInsn;
        var post = new Assembler(64);
        post.pushfq();
        post.push(rdi);
        post.mov(rdi, savedState);
        post.mov(rdi, __qword_ptr[rdi]);
        for (int i = 0; i < 16; i++)
            if (i != 4 && i != 7) post.mov(__qword_ptr[rdi + i * 8], regs[i]);
        post.pop(__qword_ptr[rdi + 7 * 8]);
        post.pop(__qword_ptr[rdi + 16 * 8]);
        post.mov(rax, savedRsp); post.mov(rsp, __qword_ptr[rax]);
        post.pop(r15); post.pop(r14); post.pop(r13); post.pop(r12); post.pop(rbp); post.pop(rbx);
        post.ret();
        byte[] postBytes = Assemble(post, basePtr + (ulong)postOffset);
        new ReadOnlySpan<byte>(preBytes).CopyTo(new Span<byte>(_page, preBytes.Length));
        new ReadOnlySpan<byte>(postBytes).CopyTo(new Span<byte>(_page + postOffset, postBytes.Length));
        _ = scratch;
        _entry = (delegate* unmanaged<ulong*, void>)_page;
    }

    private static byte[] Assemble(Assembler a, ulong ip)
    {
        using var ms = new MemoryStream();
        a.Assemble(new StreamCodeWriter(ms), ip);
        return ms.ToArray();
    }

    /// <summary>Executes <paramref name="insn"/> (position independent, at most 15 bytes) on <paramref name="state"/>.</summary>
    public void Execute(ReadOnlySpan<byte> insn, Span<ulong> state)
    {
        var slot = new Span<byte>(_page + _insnOffset, _maxInsn);
        slot.Fill(0x90); // NOP padding up to the epilogue
        insn.CopyTo(slot);
        fixed (ulong* s = state) _entry(s);
    }

    public void Dispose() => ExecutableMemory.Unmap(_page, PageSize);
}
