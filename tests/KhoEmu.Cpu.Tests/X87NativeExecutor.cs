using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Cpu.Tests;

/// <summary>
/// Runs one x87 instruction on the host CPU from a given FXSAVE image: the stub saves the test process's FPU/SSE state,
/// FXRSTOR64s the input image, loads 16 GPRs (not RSP) and RFLAGS from a state block, executes the instruction,
/// stores GPRs and RFLAGS back, FXSAVE64s the result image and restores the process's own state (so no x87 exception
/// the instruction left pending can reach the runtime). Memory operands address a host buffer through RBX.
/// </summary>
public sealed unsafe class X87NativeExecutor : IDisposable
{
    public const int StateSlots = 18; // 16 GPRs, RFLAGS, scratch
    private const int MapSize = 0x2000, SavedRsp = 0x800, SavedState = 0x808, HostImage = 0x1000, InImage = 0x1200, OutImage = 0x1400;
    private const int MaxInsn = 16;
    private readonly byte* _page;
    private readonly int _insnOffset;
    private readonly delegate* unmanaged<ulong*, void> _entry;

    public X87NativeExecutor()
    {
        _page = ExecutableMemory.Map(MapSize);
        ulong b = (ulong)_page;
        AssemblerRegister64[] regs = [rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15];
        var pre = new Assembler(64);
        pre.push(rbx); pre.push(rbp); pre.push(r12); pre.push(r13); pre.push(r14); pre.push(r15);
        pre.mov(rax, b + SavedRsp); pre.mov(__qword_ptr[rax], rsp);
        pre.mov(rax, b + SavedState); pre.mov(__qword_ptr[rax], rdi);
        pre.mov(rax, b + HostImage); pre.fxsave64(__[rax]);
        pre.mov(rax, b + InImage); pre.fxrstor64(__[rax]);
        pre.push(__qword_ptr[rdi + 16 * 8]); pre.popfq();
        for (int i = 0; i < 16; i++)
            if (i != 4 && i != 7) pre.mov(regs[i], __qword_ptr[rdi + i * 8]);
        pre.mov(rdi, __qword_ptr[rdi + 7 * 8]);
        byte[] preBytes = Assemble(pre, b);
        _insnOffset = preBytes.Length;
        int postOffset = _insnOffset + MaxInsn;
        var post = new Assembler(64);
        post.pushfq();
        post.push(rdi);
        post.mov(rdi, b + SavedState);
        post.mov(rdi, __qword_ptr[rdi]);
        for (int i = 0; i < 16; i++)
            if (i != 4 && i != 7) post.mov(__qword_ptr[rdi + i * 8], regs[i]);
        post.pop(__qword_ptr[rdi + 7 * 8]);
        post.pop(__qword_ptr[rdi + 16 * 8]);
        post.mov(rax, b + OutImage); post.fxsave64(__[rax]);
        post.mov(rax, b + HostImage); post.fxrstor64(__[rax]);
        post.mov(rax, b + SavedRsp); post.mov(rsp, __qword_ptr[rax]);
        post.pop(r15); post.pop(r14); post.pop(r13); post.pop(r12); post.pop(rbp); post.pop(rbx);
        post.ret();
        byte[] postBytes = Assemble(post, b + (ulong)postOffset);
        if (postOffset + postBytes.Length > SavedRsp) throw new InvalidOperationException("x87 stub too long");
        preBytes.CopyTo(new Span<byte>(_page, preBytes.Length));
        postBytes.CopyTo(new Span<byte>(_page + postOffset, postBytes.Length));
        _entry = (delegate* unmanaged<ulong*, void>)_page;
    }

    private static byte[] Assemble(Assembler a, ulong ip)
    {
        using var ms = new MemoryStream();
        a.Assemble(new StreamCodeWriter(ms), ip);
        return ms.ToArray();
    }

    /// <summary>
    /// Executes <paramref name="insn"/> from FXSAVE image <paramref name="input"/> and register state
    /// <paramref name="state"/>; the FXSAVE64 image afterwards lands in <paramref name="output"/>.
    /// </summary>
    public void Execute(ReadOnlySpan<byte> insn, Span<ulong> state, ReadOnlySpan<byte> input, Span<byte> output)
    {
        var slot = new Span<byte>(_page + _insnOffset, MaxInsn);
        slot.Fill(0x90);
        insn.CopyTo(slot);
        input[..512].CopyTo(new Span<byte>(_page + InImage, 512));
        fixed (ulong* s = state) _entry(s);
        new ReadOnlySpan<byte>(_page + OutImage, 512).CopyTo(output);
    }

    public void Dispose() => ExecutableMemory.Unmap(_page, MapSize);
}
