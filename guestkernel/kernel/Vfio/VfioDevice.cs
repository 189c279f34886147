using KhoEmu.Guest.Platform;
using KhoEmu.Kernel.Drivers;
using KhoEmu.Kernel.Fs;
using KhoEmu.Kernel.Mm;

namespace KhoEmu.Kernel.Vfio;

/// <summary>
/// A vfio device cdev (/dev/vfio/devices/vfioN: 0 = the DMA engine, 1 = edu): VFIO_DEVICE_BIND_IOMMUFD
/// (_IO(';', 100 + 18), {u32 argsz; u32 flags; s32 iommufd; u32 out_devid}) and VFIO_DEVICE_ATTACH_IOMMUFD_PT
/// (_IO(';', 100 + 19), {u32 argsz; u32 flags; u32 pt_id}) put the device in an IOAS's domain; ring 3 then drives
/// it through region 0 (BAR0) with pread/pwrite of 4 or 8 bytes at the register offset, as vfio-pci regions.
/// </summary>
public sealed unsafe class VfioDeviceFile : KFile
{
    public const uint BindIommufd = (0x3Bu << 8) | (100 + 18), AttachPt = (0x3Bu << 8) | (100 + 19);
    public readonly PciDevice Device;
    public IommufdFile? Iommufd;
    public Ioas? Attached;
    public bool Preserved;
    public int Index => _index;
    private static readonly bool[] s_open = new bool[2];
    private readonly int _index;

    private VfioDeviceFile(PciDevice d, int index)
    {
        Device = d;
        _index = index;
    }

    /// <summary>A device file for a device kept running across kexec (no reset, BAR as it was).</summary>
    public static VfioDeviceFile? Adopt(int index)
    {
        if (index is < 0 or > 1 || s_open[index]) return null;
        if (Pci.Count == 0) Pci.Enumerate();
        var d = index == 0 ? Pci.Find(DmaEngineDriver.Vendor, DmaEngineDriver.DeviceId) : Pci.Find(Edu.Vendor, Edu.DeviceId);
        if (d == null || d.Bar0 == 0) return null;
        s_open[index] = true;
        return new VfioDeviceFile(d, index);
    }

    public static long Open(int index)
    {
        if (index is < 0 or > 1) return -Errno.ENOENT;
        if (Pci.Count == 0) Pci.Enumerate();
        var d = index == 0 ? Pci.Find(DmaEngineDriver.Vendor, DmaEngineDriver.DeviceId) : Pci.Find(Edu.Vendor, Edu.DeviceId);
        if (d == null || d.Bar0 == 0) return -Errno.ENODEV;
        if (s_open[index]) return -Errno.EBUSY;
        s_open[index] = true;
        return FdTable.Install(new VfioDeviceFile(d, index));
    }

    public override void Release() => s_open[_index] = false;

    public override long Ioctl(uint request, ulong arg)
    {
        byte* s = stackalloc byte[16];
        if (request == BindIommufd)
        {
            long r = UserMemory.CopyFrom(s, arg, 16);
            if (r != 0) return r;
            if (*(uint*)s < 16) return -Errno.EINVAL;
            if (FdTable.Get(*(int*)(s + 8)) is not IommufdFile f) return -Errno.EBADF;
            if (Iommufd != null) return -Errno.EBUSY;
            Iommufd = f;
            *(uint*)(s + 12) = Device.SourceId;
            return UserMemory.CopyTo(arg + 12, s + 12, 4);
        }
        if (request == AttachPt)
        {
            long r = UserMemory.CopyFrom(s, arg, 12);
            if (r != 0) return r;
            if (*(uint*)s < 12) return -Errno.EINVAL;
            if (Iommufd == null) return -Errno.EINVAL;
            var ioas = Iommufd.Find(*(uint*)(s + 8));
            if (ioas == null) return -Errno.ENOENT;
            Vtd.AttachTable(Device.SourceId, ioas.Domain, ioas.Top);
            Attached = ioas;
            return 0;
        }
        return -Errno.ENOTTY;
    }

    /// <summary>Region 0 register access: 4 or 8 bytes at an aligned offset inside BAR0.</summary>
    public long Access(ulong buf, ulong count, ulong offset, bool write)
    {
        if ((count != 4 && count != 8) || (offset & (count - 1)) != 0 || offset + count > Device.Bar0Size) return -Errno.EINVAL;
        if (Attached == null) return -Errno.EINVAL;            // no DMA-capable access before the device is in a domain
        byte* reg = (byte*)Phys.ToVirt(Device.Bar0) + offset;
        ulong v = 0;
        if (write)
        {
            if (UserMemory.CopyFrom(&v, buf, count) != 0) return -Errno.EFAULT;
            if (count == 8) Native.MmioWrite64(reg, v); else Native.MmioWrite32(reg, (uint)v);
            return (long)count;
        }
        v = count == 8 ? Native.MmioRead64(reg) : Native.MmioRead32(reg);
        return UserMemory.CopyTo(buf, &v, count) == 0 ? (long)count : -Errno.EFAULT;
    }
}
