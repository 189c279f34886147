namespace Internal.Runtime
{
    /// <summary>
    /// The allocator behind <c>new</c>: objects are bump-allocated from regions the image supplies
    /// (<see cref="AddRegion"/>); when a region runs out the image's grow hook may supply another. There is no
    /// garbage collector: long-lived kernel objects are allocated once, and code that churns uses its own pools.
    /// Memory handed out is zeroed.
    /// </summary>
    public static unsafe class Heap
    {
        private static byte* s_next;
        private static byte* s_end;
        private static delegate*<nuint, bool> s_grow;
        public static ulong AllocatedBytes;
        public static ulong AllocationCount;

        public static void AddRegion(void* start, nuint size)
        {
            s_next = (byte*)(((ulong)start + 15) & ~15UL);
            s_end = (byte*)start + size;
        }

        /// <summary>A hook called with the size needed when the current region is exhausted; it calls AddRegion.</summary>
        public static void SetGrowHook(delegate*<nuint, bool> grow) => s_grow = grow;

        public static void* Allocate(nuint size)
        {
            size = (size + 15) & ~(nuint)15;
            if (s_next == null || (nuint)(s_end - s_next) < size)
            {
                var grow = s_grow;
                if (grow == null || !grow(size) || (nuint)(s_end - s_next) < size)
                    Panic.Fail("kernel heap exhausted");
            }
            byte* p = s_next;
            s_next += size;
            Memory.Zero(p, size);
            AllocatedBytes += size;
            AllocationCount++;
            return p;
        }
    }

    /// <summary>Plain memory helpers used by the runtime helpers and by guest code.</summary>
    public static unsafe class Memory
    {
        public static void Zero(void* dst, nuint n)
        {
            byte* d = (byte*)dst;
            while (n >= 8) { *(ulong*)d = 0; d += 8; n -= 8; }
            while (n-- > 0) *d++ = 0;
        }

        public static void Copy(void* dst, void* src, nuint n)
        {
            byte* d = (byte*)dst, s = (byte*)src;
            if (d <= s || d >= s + n)
            {
                while (n >= 8) { *(ulong*)d = *(ulong*)s; d += 8; s += 8; n -= 8; }
                while (n-- > 0) *d++ = *s++;
            }
            else
            {
                d += n; s += n;
                while (n-- > 0) *--d = *--s;
            }
        }

        public static void Fill(void* dst, byte value, nuint n)
        {
            byte* d = (byte*)dst;
            while (n-- > 0) *d++ = value;
        }
    }
}
