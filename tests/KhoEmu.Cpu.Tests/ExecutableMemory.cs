using System.Runtime.InteropServices;

namespace KhoEmu.Cpu.Tests;

/// <summary>Anonymous read-write-execute host pages for the native stubs the differential tests run.</summary>
internal static unsafe partial class ExecutableMemory
{
    private const int ProtReadWriteExec = 7, MapPrivateAnonymous = 0x22;

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint mmap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc")]
    private static partial int munmap(nint addr, nuint length);

    public static byte* Map(int size)
    {
        var p = (byte*)mmap(0, (nuint)size, ProtReadWriteExec, MapPrivateAnonymous, -1, 0);
        if (p == (byte*)-1) throw new InvalidOperationException("cannot map executable memory");
        return p;
    }

    public static void Unmap(byte* page, int size) => munmap((nint)page, (nuint)size);
}
