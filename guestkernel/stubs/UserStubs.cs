using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.GuestStubs;

/// <summary>
/// Ring-3 program stubs: <c>_start</c> (calls <c>UserMain()</c> with the stack aligned, then exit_group with its
/// result), <c>khoemu_syscall(nr, a1..a5)</c>, a halt that is exit_group(127), the stack probe and the link info.
/// </summary>
public static class UserStubs
{
    public const int HeapSize = 1 << 20;

    public static void Add(StubObject o)
    {
        var c = o.Code(o.Text);
        var a = c.A;
        var main = c.Slot("UserMain");
        c.Export("_start");
        a.xor(ebp, ebp);
        a.and(rsp, -16);
        a.call(__qword_ptr[main]);
        a.mov(edi, eax);
        a.mov(eax, 231);
        a.syscall();
        a.ud2();

        c.Export("khoemu_syscall");
        a.mov(rax, rdi);
        a.mov(rdi, rsi);
        a.mov(rsi, rdx);
        a.mov(rdx, rcx);
        a.mov(r10, r8);
        a.mov(r8, r9);
        a.syscall();
        a.ret();

        c.Export("khoemu_halt_forever");
        a.mov(edi, 127);
        a.mov(eax, 231);
        a.syscall();
        a.ud2();

        c.Export("khoemu_link_info");
        var fields = new[] { "__modules_start", "__modules_end", "__image_start", "__image_end", "khoemu_user_heap" };
        for (int i = 0; i < fields.Length; i++)
        {
            a.mov(rax, __qword_ptr[c.Slot(fields[i])]);
            a.mov(__qword_ptr[rdi + i * 8], rax);
        }
        a.mov(rax, (ulong)HeapSize);
        a.mov(__qword_ptr[rdi + 40], rax);
        a.ret();
        CommonStubs.AddStackProbe(c);
        c.Emit();
        CommonStubs.AddDataSymbols(o);
        var heap = o.Bss(".bss.khoemu_user_heap", HeapSize, 4096);
        o.Define("khoemu_user_heap", heap, 0, HeapSize, global: false);
    }
}
