#pragma warning disable CS0649
using System.Runtime.CompilerServices;

namespace System
{
    /// <summary>UTF-16 string; the compiler lays literals out as frozen objects with these two fields.</summary>
    public sealed class String
    {
        private readonly int _stringLength;
        private char _firstChar;

        public int Length => _stringLength;

        [IndexerName("Chars")]
        public unsafe char this[int index]
        {
            get
            {
                if ((uint)index >= (uint)_stringLength) Internal.Runtime.Panic.Fail("string index out of range");
                fixed (char* p = &_firstChar) return p[index];
            }
        }

        /// <summary>Address of the first character (strings never move: there is no compacting collector).</summary>
        public unsafe char* FirstCharPointer()
        {
            fixed (char* p = &_firstChar) return p;
        }
    }
}
