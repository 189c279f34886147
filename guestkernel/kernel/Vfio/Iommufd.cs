using KhoEmu.Guest.Platform;
using KhoEmu.Kernel.Drivers;
using KhoEmu.Kernel.Fs;
using KhoEmu.Kernel.Mm;

namespace KhoEmu.Kernel.Vfio;

/// <summary>An I/O address space: one VT-d domain with its page tables and the memfd ranges mapped into it.</summary>
public sealed class Ioas
{
    public uint Id;
    public ushort Domain;
    public ulong Top;                         // physical address of the domain's top-level table
    public readonly ulong[] MapIova = new ulong[64];
    public readonly ulong[] MapLength = new ulong[64];
    public readonly MemFd?[] MapFile = new MemFd?[64];
    public readonly ulong[] MapStart = new ulong[64];
    public int MapCount;
}

/// <summary>
/// /dev/iommu, the iommufd uAPI subset the scenarios need (ioctl type ';', size-prefixed structs as Linux):
/// IOMMU_IOAS_ALLOC (0x81), IOMMU_IOAS_MAP_FILE (0x8f, memfd pages at a fixed IOVA, readable/writeable flags) and
/// IOMMU_IOAS_UNMAP (0x86). Each IOAS is a VT-d domain; vfio devices attach to one. All three return -EBUSY while the
/// file is preserved for a live update.
/// </summary>
public sealed unsafe class IommufdFile : KFile
{
    public const uint Type = 0x3B;
    public const uint IoasAlloc = (Type << 8) | 0x81, IoasUnmap = (Type << 8) | 0x86, IoasMapFile = (Type << 8) | 0x8F;
    public const uint MapFixedIova = 1, MapWriteable = 2, MapReadable = 4;
    private static ushort s_nextDomain = 16;
    public readonly Ioas?[] Spaces = new Ioas?[8];
    public int Count;
    public bool Preserved;

    public static long Open()
    {
        if (!Vtd.Enabled && !Vtd.Init()) return -Errno.ENODEV;
        return FdTable.Install(new IommufdFile());
    }

    public Ioas? Find(uint id)
    {
        for (int i = 0; i < Count; i++) if (Spaces[i]!.Id == id) return Spaces[i];
        return null;
    }

    public override long Ioctl(uint request, ulong arg)
    {
        byte* s = stackalloc byte[48];
        long r;
        // While preserved for a live update, the address spaces are frozen: the tables the next kernel adopts were
        // preserved page by page and must not grow or change.
        if (Preserved && request is IoasAlloc or IoasMapFile or IoasUnmap) return -Errno.EBUSY;
        switch (request)
        {
            case IoasAlloc:
                r = Luo.LiveUpdateDevice.ReadArg(arg, s, 12);
                if (r != 0) return r;
                if (*(uint*)(s + 4) != 0) return -Errno.EINVAL;
                if (Count == Spaces.Length) return -Errno.ENOSPC;
                ulong top = PageAllocator.AllocateLow(1);
                if (top == 0) return -Errno.ENOMEM;
                var ioas = new Ioas { Id = (uint)(Count + 1), Domain = s_nextDomain++, Top = top };
                Spaces[Count++] = ioas;
                *(uint*)(s + 8) = ioas.Id;
                return UserMemory.CopyTo(arg + 8, s + 8, 4);
            case IoasMapFile:
                r = Luo.LiveUpdateDevice.ReadArg(arg, s, 40);
                if (r != 0) return r;
                return MapFile(*(uint*)(s + 4), *(uint*)(s + 8), *(int*)(s + 12), *(ulong*)(s + 16), *(ulong*)(s + 24), *(ulong*)(s + 32));
            case IoasUnmap:
                r = Luo.LiveUpdateDevice.ReadArg(arg, s, 24);
                if (r != 0) return r;
                return Unmap(*(uint*)(s + 4), *(ulong*)(s + 8), *(ulong*)(s + 16));
            default:
                return -Errno.ENOTTY;
        }
    }

    private long MapFile(uint flags, uint ioasId, int fd, ulong start, ulong length, ulong iova)
    {
        var ioas = Find(ioasId);
        if (ioas == null) return -Errno.ENOENT;
        if ((flags & MapFixedIova) == 0 || (flags & ~7u) != 0) return -Errno.EINVAL;   // only fixed IOVAs here
        if (FdTable.Get(fd) is not MemFd m) return -Errno.EBADF;
        if (length == 0 || ((start | length | iova) & 0xFFF) != 0 || start + length > m.Size || iova + length < iova) return -Errno.EINVAL;
        if (ioas.MapCount == ioas.MapIova.Length) return -Errno.ENOSPC;
        for (int i = 0; i < ioas.MapCount; i++)
            if (iova < ioas.MapIova[i] + ioas.MapLength[i] && ioas.MapIova[i] < iova + length) return -Errno.EEXIST;
        bool writable = (flags & MapWriteable) != 0;
        for (ulong off = 0; off < length; off += Phys.PageSize)
        {
            ulong pos = start + off;
            ulong phys = m.Blocks[pos / m.BlockSize] + pos % m.BlockSize;
            if (!Vtd.Map(ioas.Top, iova + off, phys, writable)) return -Errno.ENOMEM;
        }
        m.References++;                       // the mapping pins the file's pages
        ioas.MapIova[ioas.MapCount] = iova;
        ioas.MapLength[ioas.MapCount] = length;
        ioas.MapFile[ioas.MapCount] = m;
        ioas.MapStart[ioas.MapCount] = start;
        ioas.MapCount++;
        return 0;
    }

    private long Unmap(uint ioasId, ulong iova, ulong length)
    {
        var ioas = Find(ioasId);
        if (ioas == null) return -Errno.ENOENT;
        for (int i = 0; i < ioas.MapCount; i++)
        {
            if (ioas.MapIova[i] != iova || ioas.MapLength[i] != length) continue;
            for (ulong off = 0; off < length; off += Phys.PageSize) Vtd.Unmap(ioas.Top, ioas.Domain, iova + off);
            var m = ioas.MapFile[i];                       // null for mappings adopted across kexec
            if (m != null && --m.References == 0) m.Release();
            for (int k = i; k < ioas.MapCount - 1; k++)
            {
                ioas.MapIova[k] = ioas.MapIova[k + 1];
                ioas.MapLength[k] = ioas.MapLength[k + 1];
                ioas.MapFile[k] = ioas.MapFile[k + 1];
                ioas.MapStart[k] = ioas.MapStart[k + 1];
            }
            ioas.MapCount--;
            return 0;
        }
        return -Errno.ENOENT;
    }
}
