#pragma warning disable CS0169, CS0649
namespace System.Runtime.CompilerServices
{
    [AttributeUsage(AttributeTargets.Property)] public sealed class IndexerNameAttribute : Attribute { public IndexerNameAttribute(string indexerName) { } }
    [AttributeUsage(AttributeTargets.All)] public sealed class IntrinsicAttribute : Attribute { }
    [AttributeUsage(AttributeTargets.Class | AttributeTargets.Method | AttributeTargets.Constructor)]
    public sealed class MethodImplAttribute : Attribute
    {
        public MethodImplAttribute(MethodImplOptions methodImplOptions) { }
        public MethodImplAttribute(short value) { }
        public MethodImplAttribute() { }
    }
    public enum MethodImplOptions
    {
        Unmanaged = 4, NoInlining = 8, ForwardRef = 16, Synchronized = 32, NoOptimization = 64, PreserveSig = 128,
        AggressiveInlining = 256, AggressiveOptimization = 512, InternalCall = 4096,
    }
    [AttributeUsage(AttributeTargets.All)] public sealed class CompilerGeneratedAttribute : Attribute { }
    [AttributeUsage(AttributeTargets.Field)] public sealed class FixedBufferAttribute : Attribute { public FixedBufferAttribute(Type elementType, int length) { } }
    [AttributeUsage(AttributeTargets.Struct)] public sealed class IsByRefLikeAttribute : Attribute { }
    [AttributeUsage(AttributeTargets.All)] public sealed class IsReadOnlyAttribute : Attribute { }
    [AttributeUsage(AttributeTargets.All)] public sealed class IsUnmanagedAttribute : Attribute { }
    [AttributeUsage(AttributeTargets.Struct)] public sealed class InlineArrayAttribute : Attribute { public InlineArrayAttribute(int length) { } }
    [AttributeUsage(AttributeTargets.Struct | AttributeTargets.Class | AttributeTargets.Method | AttributeTargets.Constructor)]
    public sealed class SkipLocalsInitAttribute : Attribute { }
    [AttributeUsage(AttributeTargets.Assembly | AttributeTargets.Class | AttributeTargets.Struct | AttributeTargets.Method | AttributeTargets.Constructor)]
    public sealed class ExtensionAttribute : Attribute { }
    [AttributeUsage(AttributeTargets.Parameter)] public sealed class ScopedRefAttribute : Attribute { }
    [AttributeUsage(AttributeTargets.All)] public sealed class RefSafetyRulesAttribute : Attribute { public RefSafetyRulesAttribute(int version) { } }
    [AttributeUsage(AttributeTargets.All)] public sealed class NullableAttribute : Attribute
    {
        public NullableAttribute(byte value) { }
        public NullableAttribute(byte[] value) { }
    }
    [AttributeUsage(AttributeTargets.All)] public sealed class NullableContextAttribute : Attribute { public NullableContextAttribute(byte value) { } }
    [AttributeUsage(AttributeTargets.Module)] public sealed class NullablePublicOnlyAttribute : Attribute { public NullablePublicOnlyAttribute(bool value) { } }

    // Calling-convention modifiers for function pointers (delegate* unmanaged[...]).
    public class CallConvCdecl { }
    public class CallConvStdcall { }
    public class CallConvSuppressGCTransition { }

    public static class RuntimeFeature
    {
        public const string PortablePdb = nameof(PortablePdb);
        public const string DefaultImplementationsOfInterfaces = nameof(DefaultImplementationsOfInterfaces);
        public const string UnmanagedSignatureCallingConvention = nameof(UnmanagedSignatureCallingConvention);
        public const string CovariantReturnsOfClasses = nameof(CovariantReturnsOfClasses);
        public const string VirtualStaticsInInterfaces = nameof(VirtualStaticsInInterfaces);
        public const string NumericIntPtr = nameof(NumericIntPtr);
        public const string ByRefFields = nameof(ByRefFields);
        public const string ByRefLikeGenerics = nameof(ByRefLikeGenerics);
    }

    public static class RuntimeHelpers
    {
        public static unsafe int OffsetToStringData => sizeof(IntPtr) + sizeof(int);

        /// <summary>Copies an array initializer's data blob into the array (the compiler calls this for literals).</summary>
        public static unsafe void InitializeArray(Array array, RuntimeFieldHandle fldHandle)
        {
            // Arrays with constant initializers are preinitialized by the compiler; reaching here is a build problem.
            Internal.Runtime.Panic.Fail("RuntimeHelpers.InitializeArray is not supported");
        }

        [Intrinsic]
        public static bool IsReferenceOrContainsReferences<T>() => false;
    }

    /// <summary>Pointer and reference reinterpretation; ilc supplies the bodies of these intrinsics.</summary>
    public static unsafe class Unsafe
    {
        [Intrinsic] public static T As<T>(object? o) where T : class? => throw null!;
        [Intrinsic] public static ref TTo As<TFrom, TTo>(ref TFrom source) => throw null!;
        [Intrinsic] public static void* AsPointer<T>(ref T value) => throw null!;
        [Intrinsic] public static ref T AsRef<T>(void* source) => throw null!;
        [Intrinsic] public static ref T Add<T>(ref T source, int elementOffset) => throw null!;
        [Intrinsic] public static ref T Add<T>(ref T source, nint elementOffset) => throw null!;
        [Intrinsic] public static ref T AddByteOffset<T>(ref T source, nint byteOffset) => throw null!;
        [Intrinsic] public static int SizeOf<T>() => throw null!;
        [Intrinsic] public static bool AreSame<T>(ref T left, ref T right) => throw null!;
        [Intrinsic] public static T ReadUnaligned<T>(void* source) => throw null!;
        [Intrinsic] public static void WriteUnaligned<T>(void* destination, T value) => throw null!;
    }
}

namespace System.Runtime.InteropServices
{
    public enum LayoutKind { Sequential = 0, Explicit = 2, Auto = 3 }
    public enum CharSet { None = 1, Ansi = 2, Unicode = 3, Auto = 4 }
    public enum CallingConvention { Winapi = 1, Cdecl = 2, StdCall = 3, ThisCall = 4, FastCall = 5 }

    [AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct)]
    public sealed class StructLayoutAttribute : Attribute
    {
        public StructLayoutAttribute(LayoutKind layoutKind) { }
        public int Pack;
        public int Size;
        public CharSet CharSet;
    }
    [AttributeUsage(AttributeTargets.Field)] public sealed class FieldOffsetAttribute : Attribute { public FieldOffsetAttribute(int offset) { } }
    [AttributeUsage(AttributeTargets.Method)] public sealed class SuppressGCTransitionAttribute : Attribute { }
    [AttributeUsage(AttributeTargets.Method)]
    public sealed class UnmanagedCallersOnlyAttribute : Attribute
    {
        public Type[]? CallConvs;
        public string? EntryPoint;
    }
    [AttributeUsage(AttributeTargets.Method)]
    public sealed class DllImportAttribute : Attribute
    {
        public DllImportAttribute(string dllName) { }
        public string? EntryPoint;
        public CallingConvention CallingConvention;
        public bool ExactSpelling;
    }
    [AttributeUsage(AttributeTargets.Parameter)] public sealed class InAttribute : Attribute { }
    [AttributeUsage(AttributeTargets.Parameter)] public sealed class OutAttribute : Attribute { }
}

namespace System.Runtime
{
    /// <summary>Calls a symbol defined outside managed code (the architecture stubs) with the plain C convention.</summary>
    [AttributeUsage(AttributeTargets.Method)]
    public sealed class RuntimeImportAttribute : Attribute
    {
        public RuntimeImportAttribute(string entry) { }
        public RuntimeImportAttribute(string dllName, string entry) { }
    }

    /// <summary>Exports a managed method under a symbol name, with no transition code (stubs call it directly).</summary>
    [AttributeUsage(AttributeTargets.Method)]
    public sealed class RuntimeExportAttribute : Attribute { public RuntimeExportAttribute(string entry) { } }
}

namespace System.Runtime.Versioning
{
    [AttributeUsage(AttributeTargets.Assembly)]
    public sealed class TargetFrameworkAttribute : Attribute
    {
        public TargetFrameworkAttribute(string frameworkName) { }
        public string? FrameworkDisplayName { get; set; }
    }
}

namespace System.Diagnostics.CodeAnalysis
{
    [AttributeUsage(AttributeTargets.All)] public sealed class UnscopedRefAttribute : Attribute { }
    [AttributeUsage(AttributeTargets.Method)] public sealed class DoesNotReturnAttribute : Attribute { }
}
