using Internal.Runtime;
using KhoEmu.Guest.Platform;
using KhoEmu.Kernel.Kho;
using KhoEmu.Kernel.Mm;

namespace KhoEmu.Kernel.Fs;

/// <summary>
/// memfd_create(2): an anonymous file in physical blocks of 2^order pages (order 9, 2 MiB, once the file is that
/// large when its first block is allocated; 4 KiB pages otherwise). Holes are allocated on write or truncate.
/// For live update the blocks themselves are preserved (no copy): see <see cref="Luo.MemfdHandler"/>.
/// </summary>
public sealed unsafe class MemFd : KFile
{
    public const ulong MaxSize = 64UL << 30;
    public ulong Size, Position;
    public int Order = -1;
    public ulong* Blocks;          // physical address of each block (0 = not allocated)
    public ulong Capacity;         // entries in Blocks
    public bool Frozen;            // between freeze and kexec (or unfreeze): contents must not change
    public bool Preserved;

    public ulong BlockSize => Phys.PageSize << (Order < 0 ? 0 : Order);
    public ulong BlockCount => Order < 0 ? 0 : (Size + BlockSize - 1) / BlockSize;

    private bool EnsureCapacity(ulong blocks)
    {
        if (blocks <= Capacity) return true;
        ulong cap = Capacity == 0 ? 16 : Capacity;
        while (cap < blocks) cap *= 2;
        var n = (ulong*)Heap.Allocate((nuint)(cap * 8));
        for (ulong i = 0; i < Capacity; i++) n[i] = Blocks[i];
        Blocks = n;
        Capacity = cap;
        return true;
    }

    /// <summary>Makes sure every block below <paramref name="end"/> exists.</summary>
    private long Populate(ulong end)
    {
        if (end == 0) return 0;
        if (Order < 0) Order = end >= (2UL << 20) ? 9 : 0;
        ulong need = (end + BlockSize - 1) / BlockSize;
        EnsureCapacity(need);
        for (ulong i = 0; i < need; i++)
        {
            if (Blocks[i] != 0) continue;
            ulong pages = BlockSize / Phys.PageSize;
            ulong p = PageAllocator.Allocate(pages, pages);
            if (p == 0) return -Errno.ENOMEM;
            Blocks[i] = p;
            if (Preserved)
            {
                long r = KhoEmu.Kernel.Kho.Kho.Preserve(p, Order);
                if (r != 0) return r;
            }
        }
        return 0;
    }

    public override long Read(ulong buf, ulong count)
    {
        if (Position >= Size) return 0;
        ulong n = count < Size - Position ? count : Size - Position;
        ulong done = 0;
        while (done < n)
        {
            ulong pos = Position + done, block = pos / BlockSize, off = pos % BlockSize;
            ulong chunk = BlockSize - off < n - done ? BlockSize - off : n - done;
            long r = Blocks[block] == 0
                ? ZeroUser(buf + done, chunk)
                : UserMemory.CopyTo(buf + done, (byte*)Phys.ToVirt(Blocks[block]) + off, chunk);
            if (r != 0) return done > 0 ? (long)done : r;
            done += chunk;
        }
        Position += done;
        return (long)done;
    }

    private static long ZeroUser(ulong buf, ulong n)
    {
        byte* zero = stackalloc byte[256];
        Native.MemZero(zero, 256);
        for (ulong d = 0; d < n; d += 256)
            if (UserMemory.CopyTo(buf + d, zero, n - d < 256 ? n - d : 256) != 0) return -Errno.EFAULT;
        return 0;
    }

    public override long Write(ulong buf, ulong count)
    {
        if (Frozen) return -Errno.EBUSY;
        if (count == 0) return 0;
        if (Position + count > MaxSize || Position + count < Position) return -Errno.EFBIG;
        long r = Populate(Position + count);
        if (r != 0) return r;
        ulong done = 0;
        while (done < count)
        {
            ulong pos = Position + done, block = pos / BlockSize, off = pos % BlockSize;
            ulong chunk = BlockSize - off < count - done ? BlockSize - off : count - done;
            if (UserMemory.CopyFrom((byte*)Phys.ToVirt(Blocks[block]) + off, buf + done, chunk) != 0)
                return done > 0 ? (long)done : -Errno.EFAULT;
            done += chunk;
        }
        Position += done;
        if (Position > Size) Size = Position;
        return (long)done;
    }

    public override long Seek(long offset, int whence)
    {
        long basePos = whence == 0 ? 0 : whence == 1 ? (long)Position : whence == 2 ? (long)Size : -1;
        if (basePos < 0) return -Errno.EINVAL;
        long p = basePos + offset;
        if (p < 0) return -Errno.EINVAL;
        Position = (ulong)p;
        return p;
    }

    public override long Truncate(ulong size)
    {
        if (Frozen) return -Errno.EBUSY;
        if (size > MaxSize) return -Errno.EFBIG;
        if (size > Size)
        {
            long r = Populate(size);
            if (r != 0) return r;
        }
        else if (Order >= 0)
        {
            // Zero the tail of the last kept block; free whole blocks beyond the new end.
            ulong keep = (size + BlockSize - 1) / BlockSize;
            for (ulong i = keep; i < Capacity && i < BlockCount; i++) FreeBlock(i);
            if (size % BlockSize != 0 && keep > 0 && Blocks[keep - 1] != 0)
                Native.MemZero((byte*)Phys.ToVirt(Blocks[keep - 1]) + size % BlockSize, BlockSize - size % BlockSize);
        }
        Size = size;
        return 0;
    }

    private void FreeBlock(ulong i)
    {
        if (Blocks[i] == 0) return;
        if (Preserved) KhoEmu.Kernel.Kho.Kho.Unpreserve(Blocks[i], Order);
        PageAllocator.Free(Blocks[i], BlockSize / Phys.PageSize);
        Blocks[i] = 0;
    }

    public override void Release()
    {
        if (Preserved) return; // a preserved file's memory belongs to its live-update session until unpreserved
        for (ulong i = 0; i < Capacity; i++) FreeBlock(i);
        Size = 0;
    }

    /// <summary>Allocates every hole below the size (preservation needs real blocks).</summary>
    public long PopulateAll() => Populate(Size);
}
