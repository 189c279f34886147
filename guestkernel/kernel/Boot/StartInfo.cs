using KhoEmu.Kernel.Mm;

using KhoEmu.Guest.Platform;
using KhoEmu.Guest.Shared;
namespace KhoEmu.Kernel.Boot;

/// <summary>What the kernel learned at boot: the start info copied out, the command line and the memory map.</summary>
public static unsafe class BootInfo
{
    public const int MaxMemMap = 64;
    public static HvmStartInfo Info;
    public static HvmMemmapEntry* MemMap;
    public static int MemMapCount;
    public static byte* Cmdline;
    public static ulong CmdlineLength;
    public static ulong StartInfoPhys;

    /// <summary>Reads the start info at <paramref name="phys"/>; false when the magic is wrong.</summary>
    public static bool Parse(ulong phys, HvmMemmapEntry* storage)
    {
        StartInfoPhys = phys;
        var si = (HvmStartInfo*)Phys.ToVirt(phys);
        if (si->MagicValue != HvmStartInfo.Magic) return false;
        Info = *si;
        MemMap = storage;
        MemMapCount = 0;
        if (si->MemmapPaddr != 0)
        {
            var src = (HvmMemmapEntry*)Phys.ToVirt(si->MemmapPaddr);
            for (uint i = 0; i < si->MemmapEntries && MemMapCount < MaxMemMap; i++) storage[MemMapCount++] = src[i];
        }
        if (si->CmdlinePaddr != 0)
        {
            // Copied: after a kexec the boot pages are in scratch, which the early allocator reuses.
            byte* src = (byte*)Phys.ToVirt(si->CmdlinePaddr);
            while (src[CmdlineLength] != 0 && CmdlineLength < 4095) CmdlineLength++;
            Cmdline = (byte*)Internal.Runtime.Heap.Allocate((nuint)CmdlineLength + 1);
            for (ulong i = 0; i < CmdlineLength; i++) Cmdline[i] = src[i];
        }
        else Cmdline = (byte*)Internal.Runtime.Heap.Allocate(1);
        return true;
    }

    /// <summary>The value of <c>key=value</c> on the command line, as a pointer and length; false when absent.</summary>
    public static bool GetArgument(string key, out byte* value, out int length)
    {
        value = null;
        length = 0;
        ulong i = 0;
        while (i < CmdlineLength)
        {
            while (i < CmdlineLength && Cmdline[i] == ' ') i++;
            ulong start = i;
            while (i < CmdlineLength && Cmdline[i] != ' ') i++;
            ulong wordLen = i - start;
            if (wordLen > (ulong)key.Length && Cmdline[start + (ulong)key.Length] == '=')
            {
                bool match = true;
                for (int k = 0; k < key.Length; k++)
                    if (Cmdline[start + (ulong)k] != key[k]) { match = false; break; }
                if (match)
                {
                    value = Cmdline + start + (ulong)key.Length + 1;
                    length = (int)(wordLen - (ulong)key.Length - 1);
                    return true;
                }
            }
        }
        return false;
    }

    public static bool ArgumentEquals(string key, string expected)
    {
        if (!GetArgument(key, out byte* v, out int len) || len != expected.Length) return false;
        for (int i = 0; i < len; i++) if (v[i] != expected[i]) return false;
        return true;
    }

    /// <summary>Parses a size argument (decimal, optional K/M/G suffix); <paramref name="fallback"/> when absent or bad.</summary>
    public static ulong GetSize(string key, ulong fallback)
    {
        if (!GetArgument(key, out byte* v, out int len) || len == 0) return fallback;
        ulong n = 0;
        int i = 0;
        for (; i < len && v[i] >= '0' && v[i] <= '9'; i++) n = n * 10 + (ulong)(v[i] - '0');
        if (i == 0) return fallback;
        if (i < len)
        {
            byte s = v[i];
            if (s == 'K' || s == 'k') n <<= 10;
            else if (s == 'M' || s == 'm') n <<= 20;
            else if (s == 'G' || s == 'g') n <<= 30;
            else return fallback;
        }
        return n;
    }
}
