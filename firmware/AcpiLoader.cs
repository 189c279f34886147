using Internal.Runtime;
using KhoEmu.Guest.Platform;

namespace KhoEmu.Firmware;

/// <summary>
/// Runs QEMU's fw_cfg "etc/table-loader" (hw/acpi/bios-linker-loader.c; 128-byte entries, 56-byte file names) as
/// SeaBIOS and OVMF do: ALLOCATE reads a fw_cfg file into memory (zone FSEG: the F-segment, 0xF0000-0xFFFFF; zone
/// HIGH: the top of RAM below 4 GiB; both taken out of the RAM in the memory map), ADD_POINTER adds a file's address to a field of
/// another, ADD_CHECKSUM subtracts a range's byte sum from a checksum byte. Other commands (WRITE_POINTER, which only
/// vmgenid-style devices use) are skipped. The result is the address of "etc/acpi/rsdp", for the PVH start info.
/// </summary>
public static unsafe class AcpiLoader
{
    private const int EntrySize = 128, NameSize = 56, MaxBlobs = 16;
    private const uint CmdAllocate = 1, CmdAddPointer = 2, CmdAddChecksum = 3;
    private const byte ZoneFSegment = 2;
    private const ulong FSegmentBase = 0xF0000, FSegmentEnd = 0x100000;

    private struct Blob
    {
        public byte* Name;
        public byte* Data;
        public uint Size;
    }

    private static Blob* s_blobs;
    private static int s_count;
    private static ulong s_fsegNext;

    /// <summary>Installs the tables; returns the RSDP's address, or 0 (with a message) when there is none.</summary>
    public static ulong Run()
    {
        if (!FwCfg.Find("etc/table-loader", out ushort key, out uint size) || size == 0)
        {
            Console.WriteLine("firmware: no etc/table-loader, no ACPI tables");
            return 0;
        }
        byte* script = (byte*)Heap.Allocate(size);
        FwCfg.Read(key, script, size);
        s_blobs = (Blob*)Heap.Allocate((nuint)(sizeof(Blob) * MaxBlobs));
        s_count = 0;
        s_fsegNext = FSegmentBase;
        for (uint off = 0; off + EntrySize <= size; off += EntrySize)
        {
            byte* e = script + off;
            uint command = *(uint*)e;
            bool ok = command switch
            {
                CmdAllocate => Allocate(e + 4, *(uint*)(e + 60), e[64]),
                CmdAddPointer => AddPointer(Find(e + 4), Find(e + 60), *(uint*)(e + 116), e[120]),
                CmdAddChecksum => AddChecksum(Find(e + 4), *(uint*)(e + 60), *(uint*)(e + 64), *(uint*)(e + 68)),
                _ => true,
            };
            if (!ok)
            {
                Console.Write("firmware: table-loader entry ");
                Console.WriteDec((ulong)(off / EntrySize));
                Console.WriteLine(" is invalid; ACPI tables not installed");
                return 0;
            }
        }
        Blob* rsdp = FindName("etc/acpi/rsdp");
        if (rsdp == null) return 0;
        Console.Write("firmware: ACPI RSDP at ");
        Console.WriteHex((ulong)rsdp->Data);
        Console.Write('\n');
        return (ulong)rsdp->Data;
    }

    private static int NameLength(byte* name)
    {
        int n = 0;
        while (n < NameSize && name[n] != 0) n++;
        return n;
    }

    private static Blob* Find(byte* name)
    {
        int length = NameLength(name);
        for (int i = 0; i < s_count; i++)
        {
            byte* other = s_blobs[i].Name;
            bool same = NameLength(other) == length;
            for (int j = 0; same && j < length; j++) same = other[j] == name[j];
            if (same) return &s_blobs[i];
        }
        return null;
    }

    private static Blob* FindName(string name)
    {
        byte* b = stackalloc byte[NameSize];
        Memory.Zero(b, NameSize);
        for (int i = 0; i < name.Length && i < NameSize - 1; i++) b[i] = (byte)name[i];
        return Find(b);
    }

    private static bool Allocate(byte* name, uint align, byte zone)
    {
        int length = NameLength(name);
        if (length == NameSize || s_count == MaxBlobs || align == 0 || (align & (align - 1)) != 0 || Find(name) != null) return false;
        if (!FwCfg.Find(name, length, out ushort key, out uint size)) return false;
        ulong at;
        if (zone == ZoneFSegment)
        {
            at = (s_fsegNext + align - 1) & ~(ulong)(align - 1);
            if (at + size > FSegmentEnd) return false;
            if (s_fsegNext == FSegmentBase) Firmware.ReserveRam(FSegmentBase, FSegmentEnd - FSegmentBase);   // QEMU's e820 lists it as RAM
            s_fsegNext = at + size;
        }
        else
        {
            at = Firmware.AllocateHigh(size, align);
            if (at == 0) return false;
        }
        FwCfg.Read(key, (byte*)at, size);
        s_blobs[s_count].Name = name;
        s_blobs[s_count].Data = (byte*)at;
        s_blobs[s_count].Size = size;
        s_count++;
        return true;
    }

    private static bool AddPointer(Blob* dest, Blob* src, uint offset, byte width)
    {
        if (dest == null || src == null || (width != 1 && width != 2 && width != 4 && width != 8)) return false;
        if (offset > dest->Size || width > dest->Size - offset) return false;
        byte* p = dest->Data + offset;
        ulong v = 0;
        for (int i = 0; i < width; i++) v |= (ulong)p[i] << (8 * i);
        v += (ulong)src->Data;
        for (int i = 0; i < width; i++) p[i] = (byte)(v >> (8 * i));
        return true;
    }

    private static bool AddChecksum(Blob* file, uint offset, uint start, uint length)
    {
        if (file == null || offset >= file->Size || start > file->Size || length > file->Size - start) return false;
        byte sum = 0;
        for (uint i = 0; i < length; i++) sum += file->Data[start + i];
        file->Data[offset] -= sum;
        return true;
    }
}
