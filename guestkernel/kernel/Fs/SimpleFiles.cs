using KhoEmu.Guest.Platform;
using KhoEmu.Kernel.Boot;
using KhoEmu.Kernel.Mm;

namespace KhoEmu.Kernel.Fs;

/// <summary>A read-only file over a kernel buffer (fw_cfg files, /proc/cmdline).</summary>
public sealed unsafe class BufferFile : KFile
{
    private readonly byte* _data;
    private readonly ulong _size;
    private ulong _pos;
    public readonly ulong Phys;   // for fw_cfg files: the pages holding the contents (kexec_file_load reads these)

    public BufferFile(byte* data, ulong size, ulong phys)
    {
        _data = data;
        _size = size;
        Phys = phys;
    }

    public byte* Data => _data;
    public ulong Size => _size;

    public override long Read(ulong buf, ulong count)
    {
        if (_pos >= _size) return 0;
        ulong n = count < _size - _pos ? count : _size - _pos;
        if (UserMemory.CopyTo(buf, _data + _pos, n) != 0) return -Errno.EFAULT;
        _pos += n;
        return (long)n;
    }

    public override long Seek(long offset, int whence)
    {
        long basePos = whence == 0 ? 0 : whence == 1 ? (long)_pos : whence == 2 ? (long)_size : -1;
        if (basePos < 0 || basePos + offset < 0) return -Errno.EINVAL;
        _pos = (ulong)(basePos + offset);
        return (long)_pos;
    }
}

/// <summary>The console: writes go to COM1.</summary>
public sealed unsafe class ConsoleFile : KFile
{
    public override long Write(ulong buf, ulong count)
    {
        byte* chunk = stackalloc byte[256];
        ulong done = 0;
        while (done < count)
        {
            ulong n = count - done < 256 ? count - done : 256;
            if (UserMemory.CopyFrom(chunk, buf + done, n) != 0) return done > 0 ? (long)done : -Errno.EFAULT;
            for (ulong i = 0; i < n; i++) Console.Write((char)chunk[i]);
            done += n;
        }
        return (long)done;
    }

    public override long Read(ulong buf, ulong count) => 0;
}

/// <summary>Path lookup for open(2): a handful of fixed names, Linux paths where Linux has them.</summary>
public static unsafe class Vfs
{
    public const string FwCfgPrefix = "/sys/firmware/qemu_fw_cfg/by_name/";
    public const string FwCfgSuffix = "/raw";

    private static bool PathIs(byte* path, string s) => KhoEmu.Guest.Shared.Fdt.NameEquals(path, 4096, s);

    private static bool StartsWith(byte* path, int len, string s)
    {
        if (len < s.Length) return false;
        for (int i = 0; i < s.Length; i++) if (path[i] != s[i]) return false;
        return true;
    }

    public static long Open(byte* path, int len)
    {
        if (PathIs(path, "/dev/liveupdate")) return Luo.LiveUpdateDevice.Open();
        if (PathIs(path, "/dev/console")) return FdTable.Install(new ConsoleFile());
        if (PathIs(path, "/dev/iommu")) return Vfio.IommufdFile.Open();
        if (PathIs(path, "/dev/vfio/devices/vfio0")) return Vfio.VfioDeviceFile.Open(0);
        if (PathIs(path, "/dev/vfio/devices/vfio1")) return Vfio.VfioDeviceFile.Open(1);
        if (PathIs(path, "/sys/kernel/debug/kho/fault")) return FdTable.Install(new Luo.ControlFile(fault: true));
        if (PathIs(path, "/sys/kernel/liveupdate/number")) return FdTable.Install(new Luo.ControlFile(false, Luo.ControlFile.Number));
        if (PathIs(path, "/sys/kernel/debug/kho/unrestored")) return FdTable.Install(new Luo.ControlFile(false, Luo.ControlFile.Unrestored));
        if (PathIs(path, "/sys/kernel/debug/iommu/last_fault")) return FdTable.Install(new Luo.ControlFile(false, Luo.ControlFile.IommuFault));
        if (PathIs(path, "/sys/kernel/debug/kho/quarantined")) return FdTable.Install(new Luo.ControlFile(false, Luo.ControlFile.Quarantined));
        if (PathIs(path, "/sys/kernel/debug/kho/blackout_end")) return FdTable.Install(new Luo.ControlFile(false, Luo.ControlFile.BlackoutMark));
        if (PathIs(path, "/sys/kernel/debug/kho/preserve")) return FdTable.Install(new Luo.ControlFile(false, Luo.ControlFile.PreserveTest));
        if (PathIs(path, "/proc/meminfo")) return MemInfo.Open();
        if (PathIs(path, "/proc/cmdline"))
        {
            byte* copy = (byte*)Internal.Runtime.Heap.Allocate((nuint)BootInfo.CmdlineLength + 2);
            Internal.Runtime.Memory.Copy(copy, BootInfo.Cmdline, (nuint)BootInfo.CmdlineLength);
            copy[BootInfo.CmdlineLength] = (byte)'\n';
            return FdTable.Install(new BufferFile(copy, BootInfo.CmdlineLength + 1, 0));
        }
        if (StartsWith(path, len, FwCfgPrefix) && len > FwCfgPrefix.Length + FwCfgSuffix.Length)
        {
            // /sys/firmware/qemu_fw_cfg/by_name/<name>/raw, as Linux's qemu_fw_cfg driver names them.
            int nameLen = len - FwCfgPrefix.Length - FwCfgSuffix.Length;
            byte* name = path + FwCfgPrefix.Length;
            if (!PathIs(name + nameLen, FwCfgSuffix)) return -Errno.ENOENT;
            if (!FwCfg.Find(name, nameLen, out ushort key, out uint size)) return -Errno.ENOENT;
            ulong pages = Phys.AlignUp(size == 0 ? 1 : size, Phys.PageSize) / Phys.PageSize;
            ulong p = PageAllocator.Allocate(pages);
            if (p == 0) return -Errno.ENOMEM;
            FwCfg.Read(key, (byte*)Phys.ToVirt(p), size);
            return FdTable.Install(new BufferFile((byte*)Phys.ToVirt(p), size, p));
        }
        return -Errno.ENOENT;
    }
}
