using KhoEmu.Guest.Platform;
using KhoEmu.Kernel.Fs;
using KhoEmu.Kernel.Mm;

namespace KhoEmu.Kernel.Luo;

/// <summary>
/// memfd-v1: contents, size and position survive; the data blocks are preserved in place. Serialized data is the
/// physical address of a one-page header {u64 size; u64 pos; u32 order; u32 reserved; u64 nblocks; u64 blocks_phys;
/// u32 blocks_order; u32 magic} with blocks_phys → the block addresses (u64 each), all preserved through KHO.
/// </summary>
public sealed unsafe class MemfdHandler : FileHandler
{
    public const uint Magic = 0x3164_666D; // "mfd1"
    public override string Compatible => "memfd-v1";

    public override bool CanPreserve(KFile file) => file is MemFd;

    public override long Preserve(KFile file)
    {
        var m = (MemFd)file;
        if (m.Preserved) return -Errno.EBUSY;
        long r = m.PopulateAll();
        if (r != 0) return r;
        for (ulong i = 0; i < m.BlockCount; i++)
        {
            r = KhoEmu.Kernel.Kho.Kho.Preserve(m.Blocks[i], m.Order);
            if (r != 0)
            {
                for (ulong k = 0; k < i; k++) KhoEmu.Kernel.Kho.Kho.Unpreserve(m.Blocks[k], m.Order);
                return r;
            }
        }
        m.Preserved = true;
        return 0;
    }

    public override void Unpreserve(KFile file)
    {
        var m = (MemFd)file;
        if (!m.Preserved) return;
        for (ulong i = 0; i < m.BlockCount; i++) KhoEmu.Kernel.Kho.Kho.Unpreserve(m.Blocks[i], m.Order);
        m.Preserved = false;
    }

    public override long Freeze(KFile file, out ulong data)
    {
        var m = (MemFd)file;
        data = 0;
        ulong header = KhoEmu.Kernel.Kho.Kho.AllocPreserved(Phys.PageSize, out _);
        if (header == 0) return -Errno.ENOMEM;
        ulong n = m.BlockCount;
        ulong blocks = 0;
        int blocksOrder = 0;
        if (n > 0)
        {
            blocks = KhoEmu.Kernel.Kho.Kho.AllocPreserved(n * 8, out blocksOrder);
            if (blocks == 0)
            {
                KhoEmu.Kernel.Kho.Kho.FreePreserved(header, 0);
                return -Errno.ENOMEM;
            }
            Native.MemCopy(Phys.ToVirt(blocks), m.Blocks, n * 8);
        }
        var h = (ulong*)Phys.ToVirt(header);
        h[0] = m.Size;
        h[1] = m.Position;
        *(uint*)(h + 2) = (uint)(m.Order < 0 ? 0 : m.Order);
        h[3] = n;
        h[4] = blocks;
        *(uint*)(h + 5) = (uint)blocksOrder;
        *((uint*)(h + 5) + 1) = Magic;
        m.Frozen = true;
        data = header;
        return 0;
    }

    public override void Unfreeze(KFile file, ulong data)
    {
        var m = (MemFd)file;
        m.Frozen = false;
        if (data == 0) return;
        var h = (ulong*)Phys.ToVirt(data);
        if (h[4] != 0) KhoEmu.Kernel.Kho.Kho.FreePreserved(h[4], (int)*(uint*)(h + 5));
        KhoEmu.Kernel.Kho.Kho.FreePreserved(data, 0);
    }

    public override long Retrieve(ulong data, out KFile? file)
    {
        file = null;
        if (!KhoEmu.Kernel.Kho.Kho.Restore(data, 0)) return -Errno.EINVAL;
        var h = (ulong*)Phys.ToVirt(data);
        uint order = *(uint*)(h + 2), blocksOrder = *(uint*)(h + 5), magic = *((uint*)(h + 5) + 1);
        ulong size = h[0], pos = h[1], n = h[3], blocks = h[4];
        if (magic != Magic || order > 20 || n > (MemFd.MaxSize >> 12) || (n == 0) != (blocks == 0)
            || n * (Phys.PageSize << (int)order) < size || (n > 0 && (n - 1) * (Phys.PageSize << (int)order) >= size))
            return -Errno.EINVAL;
        if (n > 0 && (blocksOrder > 20 || (Phys.PageSize << (int)blocksOrder) < n * 8 || !KhoEmu.Kernel.Kho.Kho.Restore(blocks, (int)blocksOrder)))
            return -Errno.EINVAL;
        var m = new MemFd { Size = size, Position = pos, Order = n == 0 ? -1 : (int)order };
        if (n > 0)
        {
            m.Blocks = (ulong*)Internal.Runtime.Heap.Allocate((nuint)(n * 8));
            m.Capacity = n;
            var src = (ulong*)Phys.ToVirt(blocks);
            bool complete = true;
            for (ulong i = 0; i < n; i++)
            {
                // Every block must be one the previous kernel preserved, claimed once. A block that is not (a
                // truncated map) is quarantined, not reused, and the file is refused.
                if (!KhoEmu.Kernel.Kho.Kho.Restore(src[i], (int)order))
                {
                    KhoEmu.Kernel.Kho.Kho.Quarantine(src[i], (int)order);
                    complete = false;
                }
                m.Blocks[i] = src[i];
            }
            if (!complete) return -Errno.EINVAL;
        }
        file = m;
        return 0;
    }
}
