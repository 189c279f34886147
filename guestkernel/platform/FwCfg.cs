

namespace KhoEmu.Guest.Platform;

/// <summary>QEMU's fw_cfg through its I/O ports: selector 0x510 (16-bit), data 0x511; file directory at key 0x19.</summary>
public static unsafe class FwCfg
{
    private const uint Selector = 0x510, Data = 0x511;
    public const ushort KeySignature = 0x00, KeyFileDir = 0x19;

    public static bool Present()
    {
        Native.Outw(Selector, KeySignature);
        return Native.Inb(Data) == 'Q' && Native.Inb(Data) == 'E' && Native.Inb(Data) == 'M' && Native.Inb(Data) == 'U';
    }

    public static void Read(ushort key, byte* dst, ulong size)
    {
        Native.Outw(Selector, key);
        for (ulong i = 0; i < size; i++) dst[i] = (byte)Native.Inb(Data);
    }

    private static uint Be32(byte* p) => ((uint)p[0] << 24) | ((uint)p[1] << 16) | ((uint)p[2] << 8) | p[3];

    /// <summary>Finds a file by name given as bytes; false when fw_cfg or the file is absent.</summary>
    public static bool Find(byte* name, int length, out ushort key, out uint size)
    {
        key = 0;
        size = 0;
        if (length <= 0 || length > 55 || !Present()) return false;
        Native.Outw(Selector, KeyFileDir);
        byte* b = stackalloc byte[64];
        for (int i = 0; i < 4; i++) b[i] = (byte)Native.Inb(Data);
        uint count = Be32(b);
        for (uint n = 0; n < count && n < 4096; n++)
        {
            for (int i = 0; i < 64; i++) b[i] = (byte)Native.Inb(Data);
            bool match = b[8 + length] == 0;
            for (int i = 0; i < length && match; i++) match = b[8 + i] == name[i];
            if (match)
            {
                size = Be32(b);
                key = (ushort)((b[4] << 8) | b[5]);
                return true;
            }
        }
        return false;
    }

    /// <summary>Finds a file by name; false when fw_cfg or the file is absent.</summary>
    public static bool Find(string name, out ushort key, out uint size)
    {
        byte* b = stackalloc byte[56];
        for (int i = 0; i < name.Length && i < 56; i++) b[i] = (byte)name[i];
        return Find(b, name.Length, out key, out size);
    }
}
