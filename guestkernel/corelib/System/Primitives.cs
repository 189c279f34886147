// The zero-runtime core library shared by every KhoEmu guest image (firmware, kernel, user programs). NativeAOT's
// compiler (ilc) needs these types to exist in the "system module"; the guest builds compile these sources into
// their own assembly and name it as the system module. There is no garbage collector, no exceptions, no
// reflection: guest code uses structs, static classes, sealed classes and function pointers.
#pragma warning disable CS0660, CS0661, CS0169, CS0649, CA1822
namespace System
{
    public class Object
    {
        // The first field of every object is its MethodTable pointer; the compiler's layout contract wants it declared.
        private IntPtr _methodTable;

        public Object() { }
        public virtual bool Equals(object? other) => (object)this == other;
        public virtual int GetHashCode() => 0;
        public virtual string? ToString() => null;
    }

    public abstract class ValueType { }
    public abstract class Enum : ValueType { }
    public struct Void { }

    public struct Boolean { }
    public struct Char { }
    public struct SByte { public const sbyte MinValue = -128, MaxValue = 127; }
    public struct Byte { public const byte MinValue = 0, MaxValue = 255; }
    public struct Int16 { public const short MinValue = -32768, MaxValue = 32767; }
    public struct UInt16 { public const ushort MinValue = 0, MaxValue = 65535; }
    public struct Int32 { public const int MinValue = -2147483648, MaxValue = 2147483647; }
    public struct UInt32 { public const uint MinValue = 0, MaxValue = 4294967295; }
    public struct Int64 { public const long MinValue = -9223372036854775808, MaxValue = 9223372036854775807; }
    public struct UInt64 { public const ulong MinValue = 0, MaxValue = 18446744073709551615; }
    public struct Single { }
    public struct Double { }

    public unsafe struct IntPtr
    {
        private void* _value;
        public IntPtr(void* value) { _value = value; }
        public IntPtr(long value) { _value = (void*)value; }
        public static readonly IntPtr Zero;
        public void* ToPointer() => _value;
        public long ToInt64() => (long)_value;
    }

    public unsafe struct UIntPtr
    {
        private void* _value;
        public UIntPtr(void* value) { _value = value; }
        public void* ToPointer() => _value;
    }

    public struct Nullable<T> where T : struct
    {
        private readonly bool hasValue;
        private T value;
        public Nullable(T value) { this.value = value; hasValue = true; }
        public readonly bool HasValue => hasValue;
        public readonly T Value => value;
        public readonly T GetValueOrDefault() => value;
        public static implicit operator Nullable<T>(T value) => new Nullable<T>(value);
        public static explicit operator T(Nullable<T> value) => value.value;
    }

    public struct RuntimeTypeHandle { private IntPtr _value; }
    public struct RuntimeMethodHandle { private IntPtr _value; }
    public struct RuntimeFieldHandle { private IntPtr _value; }

    public abstract class Type { }
    internal sealed class RuntimeType : Type { }

    public abstract class Array
    {
        // Layout contract: the element count follows the MethodTable pointer.
        private readonly int _length;
        public int Length => _length;
    }
    // The compiler's view of single-dimensional zero-based arrays: layout {MethodTable*, int length, int pad, T...}.
    public class Array<T> : Array { }

    public abstract class Delegate { }
    public abstract class MulticastDelegate : Delegate { }

    public interface IDisposable { void Dispose(); }

    public abstract class Attribute { }

    [Flags]
    public enum AttributeTargets
    {
        Assembly = 1, Module = 2, Class = 4, Struct = 8, Enum = 16, Constructor = 32, Method = 64, Property = 128,
        Field = 256, Event = 512, Interface = 1024, Parameter = 2048, Delegate = 4096, ReturnValue = 8192,
        GenericParameter = 16384, All = 32767,
    }

    [AttributeUsage(AttributeTargets.Class, Inherited = true)]
    public sealed class AttributeUsageAttribute : Attribute
    {
        public AttributeUsageAttribute(AttributeTargets validOn) { }
        public bool AllowMultiple { get; set; }
        public bool Inherited { get; set; }
    }

    [AttributeUsage(AttributeTargets.Enum)] public sealed class FlagsAttribute : Attribute { }
    [AttributeUsage(AttributeTargets.Parameter)] public sealed class ParamArrayAttribute : Attribute { }
    [AttributeUsage(AttributeTargets.All)] public sealed class ObsoleteAttribute : Attribute { public ObsoleteAttribute(string message) { } }
    [AttributeUsage(AttributeTargets.Struct | AttributeTargets.Class | AttributeTargets.Field)]
    public sealed class NonSerializedAttribute : Attribute { }
    [AttributeUsage(AttributeTargets.All)] public sealed class CLSCompliantAttribute : Attribute { public CLSCompliantAttribute(bool isCompliant) { } }
}

namespace System.Reflection
{
    [AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct | AttributeTargets.Interface)]
    public sealed class DefaultMemberAttribute : Attribute { public DefaultMemberAttribute(string memberName) { } }
}
