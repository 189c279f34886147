namespace Internal.Runtime
{
    /// <summary>The head of a compiler-emitted type descriptor (what an object's first word points to).</summary>
    public struct MethodTable
    {
        public ushort ComponentSize;     // element size for arrays and strings
        public ushort Flags;
        public uint BaseSize;            // bytes for an instance without elements, header word included
        public unsafe MethodTable* RelatedType;
        public ushort NumVtableSlots;
        public ushort NumInterfaces;
        public uint HashCode;

        public const ushort HasComponentSizeFlag = 0x8000;
    }
}
