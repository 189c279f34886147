using System.Buffers.Binary;

namespace KhoEmu.Machine.Boot;

/// <summary>
/// The real-mode setup header of a bzImage (Linux Documentation/arch/x86/boot.rst, "THE REAL-MODE KERNEL HEADER"),
/// offsets from the start of the file. <see cref="Parse"/> checks everything the 64-bit boot path relies on and
/// refuses anything else with a one-line <see cref="BootException"/>.
/// </summary>
public sealed record BzImageHeader
{
    public const int OffSetupSects = 0x1F1, OffSyssize = 0x1F4, OffBootFlag = 0x1FE, OffJump = 0x200, OffHeader = 0x202;
    public const int OffVersion = 0x206, OffTypeOfLoader = 0x210, OffLoadflags = 0x211, OffRamdiskImage = 0x218;
    public const int OffRamdiskSize = 0x21C, OffHeapEndPtr = 0x224, OffCmdLinePtr = 0x228, OffInitrdAddrMax = 0x22C;
    public const int OffKernelAlignment = 0x230, OffRelocatable = 0x234, OffXloadflags = 0x236, OffCmdlineSize = 0x238;
    public const int OffSetupData = 0x250, OffPrefAddress = 0x258, OffInitSize = 0x260;
    /// <summary>The setup header ends at 0x202 + the jump's byte offset; boot_params holds it up to 0x290.</summary>
    public const int HeaderLimit = 0x290;

    public const uint HdrSMagic = 0x5372_6448; // "HdrS"
    public const ushort BootFlagMagic = 0xAA55;
    public const byte LoadedHigh = 0x01, CanUseHeap = 0x80;
    public const ushort XlfKernel64 = 0x01, XlfCanBeLoadedAbove4G = 0x02;
    /// <summary>The 64-bit entry is 0x200 bytes into the protected-mode kernel (boot.rst, "64-bit BOOT PROTOCOL").</summary>
    public const ulong Entry64Offset = 0x200;

    public int SetupSects { get; init; }
    /// <summary>Bytes before the protected-mode kernel: the boot sector plus the setup sectors.</summary>
    public int SetupBytes => (SetupSects + 1) * 512;
    public uint Syssize { get; init; }
    public ushort Version { get; init; }
    public byte Loadflags { get; init; }
    public ushort Xloadflags { get; init; }
    public uint InitrdAddrMax { get; init; }
    public uint KernelAlignment { get; init; }
    public bool Relocatable { get; init; }
    public uint CmdlineSize { get; init; }
    public ulong PrefAddress { get; init; }
    public uint InitSize { get; init; }
    /// <summary>End (exclusive file offset) of the setup header as the image declares it, clamped to boot_params' room.</summary>
    public int HeaderEnd { get; init; }

    /// <summary>True when the image has the "HdrS" signature at 0x202 (how QEMU tells a Linux kernel).</summary>
    public static bool HasSignature(ReadOnlySpan<byte> image) =>
        image.Length >= OffHeader + 4 && BinaryPrimitives.ReadUInt32LittleEndian(image[OffHeader..]) == HdrSMagic;

    /// <summary>Reads and checks the header of a bzImage with the "HdrS" signature.</summary>
    public static BzImageHeader Parse(ReadOnlySpan<byte> image)
    {
        if (image.Length < OffInitSize + 4) throw new BootException($"bzImage is truncated ({image.Length} bytes, the setup header alone needs {OffInitSize + 4})");
        if (!HasSignature(image)) throw new BootException("bzImage has no \"HdrS\" signature at 0x202");
        ushort bootFlag = BinaryPrimitives.ReadUInt16LittleEndian(image[OffBootFlag..]);
        if (bootFlag != BootFlagMagic) throw new BootException($"bzImage boot_flag is 0x{bootFlag:x4}, not 0xaa55");
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(image[OffVersion..]);
        if (version < 0x206) throw new BootException($"bzImage boot protocol {version >> 8}.{version & 0xFF:d2} is too old (2.06 or later is needed)");
        int sects = image[OffSetupSects] == 0 ? 4 : image[OffSetupSects];
        var h = new BzImageHeader
        {
            SetupSects = sects,
            Syssize = BinaryPrimitives.ReadUInt32LittleEndian(image[OffSyssize..]),
            Version = version,
            Loadflags = image[OffLoadflags],
            Xloadflags = version >= 0x20C ? BinaryPrimitives.ReadUInt16LittleEndian(image[OffXloadflags..]) : (ushort)0,
            InitrdAddrMax = BinaryPrimitives.ReadUInt32LittleEndian(image[OffInitrdAddrMax..]),
            KernelAlignment = BinaryPrimitives.ReadUInt32LittleEndian(image[OffKernelAlignment..]),
            Relocatable = image[OffRelocatable] != 0,
            CmdlineSize = BinaryPrimitives.ReadUInt32LittleEndian(image[OffCmdlineSize..]),
            PrefAddress = version >= 0x20A ? BinaryPrimitives.ReadUInt64LittleEndian(image[OffPrefAddress..]) : 0x100000,
            InitSize = version >= 0x20A ? BinaryPrimitives.ReadUInt32LittleEndian(image[OffInitSize..]) : 0,
            HeaderEnd = Math.Min(OffHeader + image[OffJump + 1], HeaderLimit),
        };
        if ((h.Xloadflags & XlfKernel64) == 0)
            throw new BootException(version < 0x20C
                ? $"bzImage boot protocol {version >> 8}.{version & 0xFF:d2} has no 64-bit entry point (XLF_KERNEL_64 needs 2.12)"
                : "bzImage has no 64-bit entry point (xloadflags lacks XLF_KERNEL_64)");
        if (h.SetupBytes >= image.Length)
            throw new BootException($"bzImage setup_sects ({image[OffSetupSects]}) reaches beyond the file ({h.SetupBytes} of {image.Length} bytes)");
        if (h.HeaderEnd > h.SetupBytes) throw new BootException("bzImage setup header extends past the setup sectors");
        long protectedBytes = image.Length - h.SetupBytes;
        if (h.Syssize == 0 || (ulong)h.Syssize * 16 > (ulong)protectedBytes)
            throw new BootException($"bzImage syssize (0x{h.Syssize:x} paragraphs = {(ulong)h.Syssize * 16} bytes) does not match the "
                + $"{protectedBytes} bytes of protected-mode kernel in the file");
        if ((ulong)protectedBytes <= Entry64Offset) throw new BootException("bzImage protected-mode kernel is too short to hold the 64-bit entry");
        if (h.Relocatable && (h.KernelAlignment == 0 || (h.KernelAlignment & (h.KernelAlignment - 1)) != 0))
            throw new BootException($"bzImage kernel_alignment 0x{h.KernelAlignment:x} is not a power of two");
        return h;
    }
}
