using KhoEmu.Kernel.Arch;
using KhoEmu.Kernel.Drivers;
using KhoEmu.Kernel.Mm;

using KhoEmu.Guest.Platform;
namespace KhoEmu.Kernel.Proc;

/// <summary>
/// The one ring-3 process: an ELF64 executable (init, from fw_cfg <c>opt/khoemu/init</c>) loaded into a fresh
/// address space, entered with IRETQ, left when it calls exit.
/// </summary>
public static unsafe class Process
{
    public const ulong UserTop = 0x0000_7FFF_FFFF_0000, StackPages = 32;
    public static ulong AddressSpace;
    public static bool Running;
    public static ulong SyscallCount, SyscallsFromRing3, BytesWritten;

    /// <summary>Loads and runs init; returns its exit status, or a negative errno when it cannot start.</summary>
    public static long RunInit()
    {
        if (!FwCfg.Find("opt/khoemu/init", out ushort key, out uint size))
        {
            Console.WriteLine("no init program (fw_cfg opt/khoemu/init)");
            return -2;
        }
        ulong frames = Phys.AlignUp(size, Phys.PageSize) / Phys.PageSize;
        ulong buf = PageAllocator.Allocate(frames);
        if (buf == 0) return -12;
        FwCfg.Read(key, (byte*)Phys.ToVirt(buf), size);
        long r = Run((byte*)Phys.ToVirt(buf), size);
        PageAllocator.Free(buf, frames);
        return r;
    }

    public static long Run(byte* image, ulong size)
    {
        if (!ElfLoader.Validate(image, size, out string? why))
        {
            Console.Write("init: not a loadable ELF64 executable: ");
            Console.WriteLine(why ?? "");
            return -8;
        }
        AddressSpace = Paging.NewAddressSpace();
        if (AddressSpace == 0 || !ElfLoader.Load(image, size, AddressSpace, out ulong entry)) return -12;
        for (ulong i = 1; i <= StackPages; i++)
        {
            ulong f = PageAllocator.Allocate(1);
            if (f == 0) return -12;
            Paging.Map(AddressSpace, UserTop - i * Phys.PageSize, f, Paging.Writable | Paging.User | Paging.NoExecute);
        }
        // Initial stack: argc = 0, argv = NULL, envp = NULL, auxv = AT_NULL.
        ulong rsp = UserTop - 64;
        TrapFrame frame = default;
        frame.Rip = entry;
        frame.Cs = Descriptors.UserCode;
        frame.Rflags = 0x202;
        frame.Rsp = rsp;
        frame.Ss = Descriptors.UserData;
        Fs.FdTable.CloseAll();
        for (int fd = 0; fd < 3; fd++) Fs.FdTable.Install(new Fs.ConsoleFile());
        ulong kernelCr3 = Native.ReadCr3();
        Native.WriteCr3(AddressSpace);
        Running = true;
        long status = Native.RunUser(&frame);
        Running = false;
        Native.WriteCr3(kernelCr3);
        Fs.FdTable.CloseAll();
        return status;
    }

    /// <summary>Ends the current process from a trap or syscall handler; never returns.</summary>
    public static void Exit(long status) => Native.ExitUser(status);
}

/// <summary>Validates and loads an ELF64 x86-64 executable's PT_LOAD segments into user pages.</summary>
public static unsafe class ElfLoader
{
    private static ushort U16(byte* p) => *(ushort*)p;
    private static uint U32(byte* p) => *(uint*)p;
    private static ulong U64(byte* p) => *(ulong*)p;

    public static bool Validate(byte* e, ulong size, out string? why)
    {
        why = null;
        if (size < 64 || e[0] != 0x7F || e[1] != 'E' || e[2] != 'L' || e[3] != 'F') { why = "bad magic"; return false; }
        if (e[4] != 2 || e[5] != 1) { why = "not ELF64 little-endian"; return false; }
        if (U16(e + 16) != 2 || U16(e + 18) != 62) { why = "not an x86-64 executable"; return false; }
        ulong phoff = U64(e + 32);
        ulong phnum = U16(e + 56);
        if (U16(e + 54) != 56 || phoff > size || phnum * 56 > size - phoff) { why = "program headers out of range"; return false; }
        for (ulong i = 0; i < phnum; i++)
        {
            byte* ph = e + phoff + i * 56;
            if (U32(ph) != 1) continue;
            ulong off = U64(ph + 8), va = U64(ph + 16), filesz = U64(ph + 32), memsz = U64(ph + 40);
            if (off > size || filesz > size - off || filesz > memsz) { why = "segment outside the file"; return false; }
            if (va < 0x1000 || va >= Process.UserTop || memsz > Process.UserTop - va) { why = "segment outside user space"; return false; }
        }
        return true;
    }

    public static bool Load(byte* e, ulong size, ulong pml4, out ulong entry)
    {
        entry = U64(e + 24);
        ulong phoff = U64(e + 32);
        ulong phnum = U16(e + 56);
        for (ulong i = 0; i < phnum; i++)
        {
            byte* ph = e + phoff + i * 56;
            if (U32(ph) != 1) continue;
            uint flags = U32(ph + 4);
            ulong off = U64(ph + 8), va = U64(ph + 16), filesz = U64(ph + 32), memsz = U64(ph + 40);
            ulong pageFlags = Paging.User | ((flags & 2) != 0 ? Paging.Writable : 0) | ((flags & 1) == 0 ? Paging.NoExecute : 0);
            for (ulong page = Phys.AlignDown(va, Phys.PageSize); page < va + memsz; page += Phys.PageSize)
            {
                ulong existing = Paging.Translate(pml4, page);
                ulong frame = existing != ulong.MaxValue ? existing : PageAllocator.Allocate(1);
                if (frame == 0) return false;
                if (existing == ulong.MaxValue) Paging.Map(pml4, page, frame, pageFlags);
                byte* dst = (byte*)Phys.ToVirt(frame);
                for (ulong b = 0; b < Phys.PageSize; b++)
                {
                    ulong addr = page + b;
                    if (addr >= va && addr < va + filesz) dst[b] = e[off + (addr - va)];
                }
            }
        }
        return true;
    }
}
