namespace KhoEmu.Guest.Shared;

/// <summary>
/// Reads a DTB held in memory. <see cref="Open"/> validates the header and walks the whole structure block once
/// (tokens, name termination, property bounds, string offsets, nesting), so the accessors can trust offsets they
/// are given by this reader. Node and property handles are offsets of their tokens in the structure block; the root
/// node is 0.
/// </summary>
public unsafe struct FdtReader
{
    public const int MaxDepth = 64;
    private byte* _struct;
    private int _structSize;
    private byte* _strings;
    private int _stringsSize;

    public byte* Blob { get; private set; }
    public uint TotalSize { get; private set; }

    public static int Open(byte* blob, ulong size, out FdtReader reader)
    {
        reader = default;
        if (blob == null || size < Fdt.HeaderSize) return Fdt.ErrTruncated;
        if (Fdt.ReadBe32(blob) != Fdt.Magic) return Fdt.ErrBadMagic;
        uint total = Fdt.ReadBe32(blob + 4), offStruct = Fdt.ReadBe32(blob + 8), offStrings = Fdt.ReadBe32(blob + 12);
        uint version = Fdt.ReadBe32(blob + 20), lastComp = Fdt.ReadBe32(blob + 24);
        uint sizeStrings = Fdt.ReadBe32(blob + 32), sizeStruct = Fdt.ReadBe32(blob + 36);
        if (total > size || total < Fdt.HeaderSize) return Fdt.ErrTruncated;
        if (version < Fdt.LastCompatibleVersion || lastComp > Fdt.Version) return Fdt.ErrBadVersion;
        if (offStruct > total || sizeStruct > total - offStruct || offStrings > total || sizeStrings > total - offStrings
            || (offStruct & 3) != 0 || (sizeStruct & 3) != 0)
            return Fdt.ErrBadOffset;
        reader._struct = blob + offStruct;
        reader._structSize = (int)sizeStruct;
        reader._strings = blob + offStrings;
        reader._stringsSize = (int)sizeStrings;
        reader.Blob = blob;
        reader.TotalSize = total;
        return reader.Check();
    }

    private uint Token(int off) => Fdt.ReadBe32(_struct + off);

    /// <summary>Length of a NUL-terminated string inside [p, p+max), or -1.</summary>
    private static int TerminatedLength(byte* p, int max)
    {
        for (int i = 0; i < max; i++)
            if (p[i] == 0) return i;
        return -1;
    }

    private int Check()
    {
        int off = 0, depth = 0;
        bool sawRoot = false;
        while (true)
        {
            if (off + 4 > _structSize) return Fdt.ErrBadStructure;
            uint t = Token(off);
            switch (t)
            {
                case Fdt.BeginNode:
                {
                    if (depth == 0 && sawRoot) return Fdt.ErrBadStructure;
                    sawRoot = true;
                    int len = TerminatedLength(_struct + off + 4, _structSize - off - 4);
                    if (len < 0) return Fdt.ErrBadName;
                    if (++depth > MaxDepth) return Fdt.ErrTooDeep;
                    off += 4 + Fdt.Align4(len + 1);
                    break;
                }
                case Fdt.EndNode:
                    if (depth-- == 0) return Fdt.ErrBadStructure;
                    off += 4;
                    break;
                case Fdt.Prop:
                {
                    if (depth == 0 || off + 12 > _structSize) return Fdt.ErrBadStructure;
                    uint len = Token(off + 4), nameOff = Token(off + 8);
                    if (len > (uint)(_structSize - off - 12)) return Fdt.ErrBadStructure;
                    if (nameOff >= (uint)_stringsSize || TerminatedLength(_strings + nameOff, _stringsSize - (int)nameOff) < 0)
                        return Fdt.ErrBadName;
                    off += 12 + Fdt.Align4((int)len);
                    break;
                }
                case Fdt.Nop:
                    off += 4;
                    break;
                case Fdt.End:
                    return depth == 0 && sawRoot ? Fdt.Ok : Fdt.ErrBadStructure;
                default:
                    return Fdt.ErrBadStructure;
            }
        }
    }

    private int SkipNops(int off)
    {
        while (off + 4 <= _structSize && Token(off) == Fdt.Nop) off += 4;
        return off;
    }

    /// <summary>Offset just past the node starting at <paramref name="node"/> (after its END_NODE).</summary>
    private int SkipNode(int node)
    {
        int off = node, depth = 0;
        while (off + 4 <= _structSize)
        {
            uint t = Token(off);
            if (t == Fdt.BeginNode)
            {
                depth++;
                off += 4 + Fdt.Align4(TerminatedLength(_struct + off + 4, _structSize - off - 4) + 1);
            }
            else if (t == Fdt.EndNode)
            {
                off += 4;
                if (--depth == 0) return off;
            }
            else if (t == Fdt.Prop) off += 12 + Fdt.Align4((int)Token(off + 4));
            else if (t == Fdt.Nop) off += 4;
            else return _structSize;
        }
        return _structSize;
    }

    private int BodyStart(int node) => node + 4 + Fdt.Align4(TerminatedLength(_struct + node + 4, _structSize - node - 4) + 1);

    /// <summary>The node's name (empty for the root).</summary>
    public byte* NodeName(int node, out int length)
    {
        length = TerminatedLength(_struct + node + 4, _structSize - node - 4);
        return _struct + node + 4;
    }

    public bool NodeNameEquals(int node, string name) => Fdt.NameEquals(_struct + node + 4, _structSize - node - 4, name);

    /// <summary>First child node, or -1.</summary>
    public int FirstChild(int node)
    {
        int off = BodyStart(node);
        while (true)
        {
            off = SkipNops(off);
            if (off + 4 > _structSize) return -1;
            uint t = Token(off);
            if (t == Fdt.Prop) { off += 12 + Fdt.Align4((int)Token(off + 4)); continue; }
            return t == Fdt.BeginNode ? off : -1;
        }
    }

    /// <summary>Next sibling node, or -1.</summary>
    public int NextSibling(int node)
    {
        int off = SkipNops(SkipNode(node));
        return off + 4 <= _structSize && Token(off) == Fdt.BeginNode ? off : -1;
    }

    /// <summary>The child of <paramref name="node"/> named <paramref name="name"/>, or -1.</summary>
    public int FindChild(int node, string name)
    {
        for (int c = FirstChild(node); c >= 0; c = NextSibling(c))
            if (NodeNameEquals(c, name)) return c;
        return -1;
    }

    /// <summary>First property of a node (handle), or -1.</summary>
    public int FirstProperty(int node) => PropertyFrom(BodyStart(node));

    public int NextProperty(int prop) => PropertyFrom(prop + 12 + Fdt.Align4((int)Token(prop + 4)));

    private int PropertyFrom(int off)
    {
        off = SkipNops(off);
        return off + 4 <= _structSize && Token(off) == Fdt.Prop ? off : -1;
    }

    public byte* PropertyName(int prop) => _strings + Token(prop + 8);

    public bool PropertyNameEquals(int prop, string name)
    {
        uint nameOff = Token(prop + 8);
        return Fdt.NameEquals(_strings + nameOff, _stringsSize - (int)nameOff, name);
    }

    public byte* PropertyValue(int prop, out int length)
    {
        length = (int)Token(prop + 4);
        return _struct + prop + 12;
    }

    /// <summary>Finds a property by name: its value and length; false when absent.</summary>
    public bool GetProperty(int node, string name, out byte* value, out int length)
    {
        for (int p = FirstProperty(node); p >= 0; p = NextProperty(p))
        {
            if (PropertyNameEquals(p, name))
            {
                value = PropertyValue(p, out length);
                return true;
            }
        }
        value = null;
        length = 0;
        return false;
    }

    /// <summary>A u64 property in native (little-endian) byte order, as KHO writes them; false when absent or not 8 bytes.</summary>
    public bool GetU64(int node, string name, out ulong value)
    {
        value = 0;
        if (!GetProperty(node, name, out byte* v, out int len) || len != 8) return false;
        value = *(ulong*)v;
        return true;
    }

    /// <summary>True when a string property equals <paramref name="expected"/> (one NUL-terminated string).</summary>
    public bool StringEquals(int node, string name, string expected)
    {
        return GetProperty(node, name, out byte* v, out int len) && len == expected.Length + 1 && Fdt.NameEquals(v, len, expected);
    }
}
