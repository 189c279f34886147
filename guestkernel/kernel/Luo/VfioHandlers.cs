using KhoEmu.Guest.Platform;
using KhoEmu.Kernel.Drivers;
using KhoEmu.Kernel.Fs;
using KhoEmu.Kernel.Mm;
using KhoEmu.Kernel.Vfio;

namespace KhoEmu.Kernel.Luo;

/// <summary>
/// iommufd-v1: the I/O address spaces survive with the IOMMU left on. Preserving keeps every VT-d table page (root,
/// context, each domain's second-level tables) through KHO; the data page lists each IOAS {id, domain, top} and its
/// mappings. The new kernel adopts the running IOMMU (no reset) and these tables instead of building new ones.
/// </summary>
public sealed unsafe class IommufdHandler : FileHandler
{
    public const uint Magic = 0x6466_6F69; // "iofd"
    public override string Compatible => "iommufd-v1";
    public static IommufdFile? Retrieved;
    public static bool AnyPreserved;

    public override bool CanPreserve(KFile file) => file is IommufdFile;

    private static long ForEachTablePage(IommufdFile f, bool preserve)
    {
        ulong* pages = stackalloc ulong[512];
        long r = ApplyPage(Vtd.RootTable, preserve);
        if (r == 0) r = ApplyPage(Vtd.ContextTable, preserve);
        for (int i = 0; i < f.Count && r == 0; i++)
        {
            int n = Vtd.TablePages(f.Spaces[i]!.Top, pages, 512);
            for (int k = 0; k < n && r == 0; k++) r = ApplyPage(pages[k], preserve);
        }
        return r;
    }

    private static long ApplyPage(ulong page, bool preserve)
    {
        long r = preserve ? KhoEmu.Kernel.Kho.Kho.Preserve(page, 0) : KhoEmu.Kernel.Kho.Kho.Unpreserve(page, 0);
        return r == -Errno.EEXIST || r == -Errno.ENOENT ? 0 : r;
    }

    public override long Preserve(KFile file)
    {
        var f = (IommufdFile)file;
        if (!Vtd.Enabled) return -Errno.ENODEV;
        long r = ForEachTablePage(f, preserve: true);
        if (r != 0)
        {
            ForEachTablePage(f, preserve: false);
            return r;
        }
        f.Preserved = true;
        AnyPreserved = true;
        return 0;
    }

    public override void Unpreserve(KFile file)
    {
        var f = (IommufdFile)file;
        ForEachTablePage(f, preserve: false);
        f.Preserved = false;
        AnyPreserved = false;
    }

    public override long Freeze(KFile file, out ulong data)
    {
        var f = (IommufdFile)file;
        data = 0;
        // Every memfd a device can write must survive too, or the next kernel would hand its pages out while the
        // device still writes them. (Mappings adopted from a previous kernel carry no file and are exempt.)
        for (int i = 0; i < f.Count; i++)
            for (int k = 0; k < f.Spaces[i]!.MapCount; k++)
                if (f.Spaces[i]!.MapFile[k] is { Preserved: false })
                {
                    Console.Write("luo: iommufd-v1: IOAS ");
                    Console.WriteDec((long)f.Spaces[i]!.Id);
                    Console.Write(" maps a memfd that is not preserved at IOVA ");
                    Console.WriteHex(f.Spaces[i]!.MapIova[k]);
                    Console.Write('\n');
                    return -Errno.EINVAL;
                }
        data = KhoEmu.Kernel.Kho.Kho.AllocPreserved(Phys.PageSize, out _);
        if (data == 0) return -Errno.ENOMEM;
        var d = (ulong*)Phys.ToVirt(data);
        *(uint*)d = Magic;
        *((uint*)d + 1) = (uint)f.Count;
        d[1] = Vtd.RootTable;
        d[2] = Vtd.ContextTable;
        d[3] = (ulong)Vtd.Levels;
        // Per IOAS, 48 qwords from qword 8: id | domain << 32, top, map count, then 16 {iova, length} pairs.
        for (int i = 0; i < f.Count; i++)
        {
            var ioas = f.Spaces[i]!;
            ulong* e = d + 8 + i * 48;
            e[0] = ioas.Id | ((ulong)ioas.Domain << 32);
            e[1] = ioas.Top;
            int maps = ioas.MapCount < 16 ? ioas.MapCount : 16;
            e[2] = (ulong)maps;
            for (int k = 0; k < maps; k++)
            {
                e[3 + k * 2] = ioas.MapIova[k];
                e[4 + k * 2] = ioas.MapLength[k];
            }
        }
        return 0;
    }

    public override void Unfreeze(KFile file, ulong data)
    {
        if (data != 0) KhoEmu.Kernel.Kho.Kho.FreePreserved(data, 0);
    }

    public override long Retrieve(ulong data, out KFile? file)
    {
        file = null;
        if (!KhoEmu.Kernel.Kho.Kho.Restore(data, 0)) return -Errno.EINVAL;
        var d = (ulong*)Phys.ToVirt(data);
        uint count = *((uint*)d + 1);
        if (*(uint*)d != Magic || count > 8) return -Errno.EINVAL;
        if (!Vtd.Init() || !Vtd.Adopted || Vtd.RootTable != d[1] || Vtd.ContextTable != d[2] || (ulong)Vtd.Levels != d[3])
        {
            Console.WriteLine("luo: iommufd-v1: the IOMMU is not running the preserved tables");
            return -Errno.EINVAL;
        }
        KhoEmu.Kernel.Kho.Kho.Restore(Vtd.RootTable, 0);
        KhoEmu.Kernel.Kho.Kho.Restore(Vtd.ContextTable, 0);
        var f = new IommufdFile();
        ulong* pages = stackalloc ulong[512];
        for (uint i = 0; i < count; i++)
        {
            ulong* e = d + 8 + i * 48;
            var ioas = new Ioas { Id = (uint)e[0], Domain = (ushort)(e[0] >> 32), Top = e[1] };
            int n = Vtd.TablePages(ioas.Top, pages, 512);
            for (int k = 0; k < n; k++) KhoEmu.Kernel.Kho.Kho.Restore(pages[k], 0);
            int maps = (int)(e[2] < 16 ? e[2] : 16);
            for (int k = 0; k < maps; k++)
            {
                ioas.MapIova[k] = e[3 + k * 2];
                ioas.MapLength[k] = e[4 + k * 2];
            }
            ioas.MapCount = maps;
            f.Spaces[f.Count++] = ioas;
        }
        Retrieved = f;
        file = f;
        return 0;
    }
}

/// <summary>
/// vfio-v1: a device assigned to ring 3 stays attached and running across kexec (no reset). It needs its iommufd
/// preserved first (and retrieved first). Data: device index | source id &lt;&lt; 8 | IOAS id &lt;&lt; 32.
/// </summary>
public sealed class VfioHandler : FileHandler
{
    public override string Compatible => "vfio-v1";

    public override bool CanPreserve(KFile file) => file is VfioDeviceFile;

    public override long Preserve(KFile file)
    {
        var v = (VfioDeviceFile)file;
        if (v.Iommufd is not { Preserved: true } || v.Attached == null) return -Errno.EINVAL;   // iommufd first
        v.Preserved = true;
        return 0;
    }

    public override void Unpreserve(KFile file) => ((VfioDeviceFile)file).Preserved = false;

    public override long Freeze(KFile file, out ulong data)
    {
        var v = (VfioDeviceFile)file;
        data = (uint)v.Index | ((ulong)v.Device.SourceId << 8) | ((ulong)v.Attached!.Id << 32);
        return 0;
    }

    public override long Retrieve(ulong data, out KFile? file)
    {
        file = null;
        var iommufd = IommufdHandler.Retrieved;
        if (iommufd == null) return -Errno.EAGAIN;                  // retrieve the iommufd first, then try again
        var ioas = iommufd.Find((uint)(data >> 32));
        var v = VfioDeviceFile.Adopt((int)(data & 0xFF));
        if (ioas == null || v == null || v.Device.SourceId != (ushort)(data >> 8)) return -Errno.EINVAL;
        v.Iommufd = iommufd;
        v.Attached = ioas;
        file = v;
        return 0;
    }
}
