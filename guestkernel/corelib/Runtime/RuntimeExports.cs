using System;
using System.Runtime;

namespace Internal.Runtime
{
    /// <summary>
    /// The helpers compiled code calls by symbol name: allocation, reference stores, transitions, fail-fast. No GC,
    /// so stores are plain stores and transitions are empty.
    /// </summary>
    internal static unsafe class RuntimeExports
    {
        [RuntimeExport("RhpNewFast")]
        private static void* RhpNewFast(MethodTable* mt)
        {
            var obj = (MethodTable**)Heap.Allocate(mt->BaseSize);
            *obj = mt;
            return obj;
        }

        [RuntimeExport("RhpNewFinalizable")]
        private static void* RhpNewFinalizable(MethodTable* mt) => RhpNewFast(mt);

        [RuntimeExport("RhpNewArrayFast")]
        private static void* RhpNewArrayFast(MethodTable* mt, int length) => NewArray(mt, length);

        [RuntimeExport("RhpNewPtrArrayFast")]
        private static void* RhpNewPtrArrayFast(MethodTable* mt, int length) => NewArray(mt, length);

        [RuntimeExport("RhpNewArray")]
        private static void* RhpNewArray(MethodTable* mt, int length) => NewArray(mt, length);

        [RuntimeExport("RhNewString")]
        private static void* RhNewString(MethodTable* mt, int length) => NewArray(mt, length);

        private static void* NewArray(MethodTable* mt, int length)
        {
            if (length < 0) Panic.Fail("negative array length");
            ulong size = mt->BaseSize + (ulong)length * mt->ComponentSize;
            if (size > 1UL << 32) Panic.Fail("array too large");
            var obj = (byte*)Heap.Allocate((nuint)((size + 7) & ~7UL));
            *(MethodTable**)obj = mt;
            *(int*)(obj + 8) = length;
            return obj;
        }

        [RuntimeExport("RhpAssignRef")]
        private static void RhpAssignRef(void** location, void* value) => *location = value;

        [RuntimeExport("RhpCheckedAssignRef")]
        private static void RhpCheckedAssignRef(void** location, void* value) => *location = value;

        [RuntimeExport("RhpCheckedLockCmpXchg")]
        private static void* RhpCheckedLockCmpXchg(void** location, void* value, void* comparand)
        {
            void* old = *location;
            if (old == comparand) *location = value;
            return old;
        }

        [RuntimeExport("RhpGcPoll")]
        private static void RhpGcPoll() { }

        [RuntimeExport("RhpPInvoke")]
        private static void RhpPInvoke(void* frame) { }

        [RuntimeExport("RhpPInvokeReturn")]
        private static void RhpPInvokeReturn(void* frame) { }

        [RuntimeExport("RhpReversePInvoke")]
        private static void RhpReversePInvoke(void* frame) { }

        [RuntimeExport("RhpReversePInvokeReturn")]
        private static void RhpReversePInvokeReturn(void* frame) { }

        [RuntimeExport("RhpFallbackFailFast")]
        private static void RhpFallbackFailFast() => Panic.Fail("fail-fast");

        [RuntimeExport("RhpThrowEx")]
        private static void RhpThrowEx(void* exception) => Panic.Fail("an exception was thrown (guest code cannot throw)");
    }
}
