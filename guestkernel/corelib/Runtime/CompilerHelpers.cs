using System;
using System.Runtime;
using System.Runtime.CompilerServices;

namespace Internal.Runtime.CompilerHelpers
{
    /// <summary>Compiler-inserted checks land here; guest code has no exceptions, so each one panics with its reason.</summary>
    internal static class ThrowHelpers
    {
        private static void ThrowOverflowException() => Panic.Fail("arithmetic overflow");
        private static void ThrowIndexOutOfRangeException() => Panic.Fail("index out of range");
        private static void ThrowNullReferenceException() => Panic.Fail("null reference");
        private static void ThrowDivideByZeroException() => Panic.Fail("division by zero");
        private static void ThrowArrayTypeMismatchException() => Panic.Fail("array type mismatch");
        private static void ThrowPlatformNotSupportedException() => Panic.Fail("platform not supported");
        private static void ThrowTypeLoadException() => Panic.Fail("type load failure");
        private static void ThrowArgumentException() => Panic.Fail("bad argument");
        private static void ThrowArgumentOutOfRangeException() => Panic.Fail("argument out of range");
        private static void ThrowInvalidProgramException() => Panic.Fail("invalid program");
        private static void ThrowInvalidProgramExceptionWithArgument() => Panic.Fail("invalid program");
        private static void ThrowMissingMethodException() => Panic.Fail("missing method");
        private static void ThrowMissingFieldException() => Panic.Fail("missing field");
        private static void ThrowFileNotFoundException() => Panic.Fail("missing assembly");
        private static void ThrowBadImageFormatException() => Panic.Fail("bad image format");
        private static void ThrowNotImplementedException() => Panic.Fail("not implemented");
        private static void ThrowFeatureBodyRemoved() => Panic.Fail("method body removed by the compiler");
        private static void ThrowMarshalDirectiveException() => Panic.Fail("marshalling not supported");
        private static void ThrowAmbiguousMatchException() => Panic.Fail("ambiguous match");
        private static void ThrowInvalidCastException() => Panic.Fail("invalid cast");
    }

    /// <summary>Module start-up: the image's entry code calls <see cref="InitializeModules"/> before any managed code.</summary>
    public static unsafe class StartupCodeHelpers
    {
        private const int GcStaticRegionSection = 201;

        /// <summary>
        /// Walks the ReadyToRun headers listed in the <c>__modules</c> section and allocates every GC static base
        /// (statics of reference type live in a heap object per type), copying preinitialized data when present.
        /// </summary>
        public static void InitializeModules(void** modulesStart, void** modulesEnd)
        {
            for (void** m = modulesStart; m < modulesEnd; m++)
            {
                if (*m == null) continue;
                var header = (ReadyToRunHeader*)*m;
                if (header->Signature != ReadyToRunHeader.ExpectedSignature) Panic.Fail("bad ReadyToRun header");
                var sections = (ModuleSection*)(header + 1);
                for (int i = 0; i < header->NumberOfSections; i++)
                {
                    if (sections[i].SectionId == GcStaticRegionSection)
                        InitializeStatics((byte*)sections[i].Start, (byte*)sections[i].End);
                }
            }
        }

        private static void InitializeStatics(byte* start, byte* end)
        {
            // Each entry is a 32-bit offset, relative to the entry itself, to a static base slot. Until initialized
            // the slot holds a 32-bit offset (relative to the slot) to the static base's MethodTable, with bit 0 set
            // ("uninitialized") and bit 1 set when the next 32-bit relative offset points at preinitialized field data.
            // Initialization replaces the slot with the address of a newly allocated static base object.
            for (byte* entry = start; entry < end; entry += 4)
            {
                var slot = entry + *(int*)entry;
                int value = *(int*)slot;
                if ((value & 1) == 0) continue;
                var mt = (MethodTable*)((nint)(slot + value) & ~(nint)3);
                var obj = (byte*)Heap.Allocate(mt->BaseSize);
                *(MethodTable**)obj = mt;
                if ((value & 2) != 0)
                {
                    byte* data = slot + 4 + *(int*)(slot + 4);
                    Memory.Copy(obj + 8, data, mt->BaseSize - 16);
                }
                *(nint*)slot = (nint)obj;
            }
        }
    }

    internal struct ReadyToRunHeader
    {
        public const uint ExpectedSignature = 0x00525452; // "RTR"
        public uint Signature;
        public ushort MajorVersion;
        public ushort MinorVersion;
        public uint Flags;
        public ushort NumberOfSections;
        public byte EntrySize;
        public byte EntryType;
    }

    internal unsafe struct ModuleSection
    {
        public int SectionId;
        public int Flags;
        public void* Start;
        public void* End;
    }
}

namespace System.Runtime.CompilerServices
{
    /// <summary>Runs a type's static constructor once, on first access (the compiler calls these).</summary>
    internal static unsafe class ClassConstructorRunner
    {
        private static void* CheckStaticClassConstructionReturnGCStaticBase(StaticClassConstructionContext* context, void* gcStaticBase)
        {
            EnsureClassConstructorRun(context);
            return gcStaticBase;
        }

        private static void* CheckStaticClassConstructionReturnNonGCStaticBase(StaticClassConstructionContext* context, void* nonGcStaticBase)
        {
            EnsureClassConstructorRun(context);
            return nonGcStaticBase;
        }

        private static void EnsureClassConstructorRun(StaticClassConstructionContext* context)
        {
            nint cctor = context->cctorMethodAddress;
            if (cctor == 0) return;
            context->cctorMethodAddress = 0;
            ((delegate*<void>)cctor)();
        }
    }

    internal struct StaticClassConstructionContext
    {
        public nint cctorMethodAddress;
    }

    public interface IDynamicInterfaceCastable { }
}

namespace System.Runtime.InteropServices
{
    public interface IDynamicInterfaceCastable
    {
        static RuntimeTypeHandle GetDynamicInterfaceImplementation(RuntimeTypeHandle interfaceType) => default;
    }
}

namespace System.Runtime
{
    /// <summary>Cast and array-element helpers; guest code does not downcast, so these only do what stores need.</summary>
    internal static unsafe class TypeCast
    {
        // Arrays are {MethodTable*, int length, int pad, elements...}: the elements start 16 bytes in.
        private static void** Elements(object?[] array, nint index)
        {
            byte* a = *(byte**)Unsafe.AsPointer(ref array);
            if ((ulong)index >= (ulong)*(int*)(a + 8)) Internal.Runtime.Panic.Fail("index out of range");
            return (void**)(a + 16) + index;
        }

        // Casts. Class casts walk the parent chain (a class MethodTable's RelatedType is its base type); interface and
        // array casts are not checked (the guest code base does not rely on failing casts).
        private static bool IsSubclass(Internal.Runtime.MethodTable* type, Internal.Runtime.MethodTable* target)
        {
            for (int depth = 0; type != null && depth < 64; depth++, type = type->RelatedType)
                if (type == target) return true;
            return false;
        }

        private static Internal.Runtime.MethodTable* TypeOf(object obj) => **(Internal.Runtime.MethodTable***)Unsafe.AsPointer(ref obj);

        private static object? IsInstanceOfClass(void* target, object? obj) =>
            obj == null || IsSubclass(TypeOf(obj), (Internal.Runtime.MethodTable*)target) ? obj : null;

        private static object? CheckCastClass(void* target, object? obj)
        {
            if (obj != null && !IsSubclass(TypeOf(obj), (Internal.Runtime.MethodTable*)target)) Internal.Runtime.Panic.Fail("invalid cast");
            return obj;
        }

        private static object? CheckCastClassSpecial(void* target, object? obj) => CheckCastClass(target, obj);
        private static object? IsInstanceOfAny(void* target, object? obj) => obj;
        private static object? CheckCastAny(void* target, object? obj) => obj;
        private static object? IsInstanceOfInterface(void* target, object? obj) => obj;
        private static object? CheckCastInterface(void* target, object? obj) => obj;
        private static object? IsInstanceOf(void* target, object? obj) => obj;
        private static bool IsInstanceOfException(void* target, object? obj) => false;

        private static void StelemRef(object?[] array, nint index, object? obj) =>
            *Elements(array, index) = *(void**)Unsafe.AsPointer(ref obj);

        private static ref object? LdelemaRef(object?[] array, nint index, void* elementType) =>
            ref Unsafe.AsRef<object?>(Elements(array, index));
    }
}

namespace System
{
    internal static class Buffer
    {
        internal static unsafe void BulkMoveWithWriteBarrier(ref byte destination, ref byte source, nuint byteCount)
        {
            fixed (byte* d = &destination) fixed (byte* s = &source) Internal.Runtime.Memory.Copy(d, s, byteCount);
        }
    }

    internal static unsafe class SpanHelpers
    {
        public static void Memmove(ref byte destination, ref byte source, nuint len)
        {
            fixed (byte* d = &destination) fixed (byte* s = &source) Internal.Runtime.Memory.Copy(d, s, len);
        }

        public static void ClearWithoutReferences(ref byte b, nuint byteLength)
        {
            fixed (byte* p = &b) Internal.Runtime.Memory.Zero(p, byteLength);
        }

        public static void Fill(ref byte refData, nuint numElements, byte value)
        {
            fixed (byte* p = &refData) Internal.Runtime.Memory.Fill(p, value, numElements);
        }
    }
}
