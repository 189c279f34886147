namespace KhoEmu.Guest.Shared;

/// <summary>
/// Builds a DTB in a caller-supplied buffer, sequentially: BeginNode/Property/EndNode, then <see cref="Finish"/>.
/// The structure block grows from the front; property names collect in the upper part of the buffer and move
/// behind the structure block at the end (names are de-duplicated). Running out of space sets <see cref="Error"/>
/// and later calls do nothing, so a caller checks once.
/// </summary>
public unsafe struct FdtWriter
{
    private byte* _buf;
    private int _capacity;
    private int _structEnd;      // next free byte of the structure block
    private int _stringsBase;    // where names are collected
    private int _stringsEnd;
    private int _depth;
    public int Error;

    private const int StructStart = Fdt.HeaderSize + 16;  // header + an empty memory-reservation map

    public static FdtWriter Create(byte* buffer, int capacity)
    {
        var w = new FdtWriter { _buf = buffer, _capacity = capacity, _structEnd = StructStart };
        w._stringsBase = capacity - capacity / 4;
        w._stringsEnd = w._stringsBase;
        if (capacity < StructStart + 64) w.Error = Fdt.ErrNoSpace;
        return w;
    }

    private bool Reserve(int bytes)
    {
        if (Error != 0) return false;
        if (_structEnd + bytes > _stringsBase)
        {
            Error = Fdt.ErrNoSpace;
            return false;
        }
        return true;
    }

    private void Token(uint t)
    {
        Fdt.WriteBe32(_buf + _structEnd, t);
        _structEnd += 4;
    }

    public void BeginNode(string name)
    {
        int padded = Fdt.Align4(name.Length + 1);
        if (!Reserve(4 + padded)) return;
        Token(Fdt.BeginNode);
        for (int i = 0; i < padded; i++) _buf[_structEnd + i] = i < name.Length ? (byte)name[i] : (byte)0;
        _structEnd += padded;
        _depth++;
    }

    public void EndNode()
    {
        if (!Reserve(4)) return;
        if (_depth == 0)
        {
            Error = Fdt.ErrBadStructure;
            return;
        }
        Token(Fdt.EndNode);
        _depth--;
    }

    private int NameOffset(string name)
    {
        // De-duplicate: look for an identical name already collected.
        for (int off = _stringsBase; off < _stringsEnd;)
        {
            if (Fdt.NameEquals(_buf + off, _stringsEnd - off, name)) return off - _stringsBase;
            while (_buf[off] != 0) off++;
            off++;
        }
        if (_stringsEnd + name.Length + 1 > _capacity)
        {
            Error = Fdt.ErrNoSpace;
            return -1;
        }
        int at = _stringsEnd;
        for (int i = 0; i < name.Length; i++) _buf[at + i] = (byte)name[i];
        _buf[at + name.Length] = 0;
        _stringsEnd += name.Length + 1;
        return at - _stringsBase;
    }

    public void Property(string name, byte* value, int length)
    {
        if (length < 0 || !Reserve(12 + Fdt.Align4(length))) return;
        if (_depth == 0)
        {
            Error = Fdt.ErrBadStructure;
            return;
        }
        int nameOff = NameOffset(name);
        if (nameOff < 0) return;
        Token(Fdt.Prop);
        Token((uint)length);
        Token((uint)nameOff);
        for (int i = 0; i < length; i++) _buf[_structEnd + i] = value[i];
        for (int i = length; i < Fdt.Align4(length); i++) _buf[_structEnd + i] = 0;
        _structEnd += Fdt.Align4(length);
    }

    public void PropertyString(string name, string value)
    {
        byte* tmp = stackalloc byte[value.Length + 1];
        for (int i = 0; i < value.Length; i++) tmp[i] = (byte)value[i];
        tmp[value.Length] = 0;
        Property(name, tmp, value.Length + 1);
    }

    /// <summary>A u64 in native (little-endian) byte order, as KHO properties are.</summary>
    public void PropertyU64(string name, ulong value) => Property(name, (byte*)&value, 8);

    /// <summary>A u32 in big-endian (device-tree cell) order.</summary>
    public void PropertyCell(string name, uint value)
    {
        byte* b = stackalloc byte[4];
        Fdt.WriteBe32(b, value);
        Property(name, b, 4);
    }

    public void PropertyEmpty(string name) => Property(name, null, 0);

    /// <summary>Closes the tree and writes the header; returns the total size, or a negative error.</summary>
    public int Finish()
    {
        if (Error == 0 && _depth != 0) Error = Fdt.ErrBadStructure;
        if (!Reserve(4)) return Error;
        Token(Fdt.End);
        int structSize = _structEnd - StructStart;
        int stringsSize = _stringsEnd - _stringsBase;
        for (int i = 0; i < stringsSize; i++) _buf[_structEnd + i] = _buf[_stringsBase + i];
        int total = _structEnd + stringsSize;
        Fdt.WriteBe32(_buf, Fdt.Magic);
        Fdt.WriteBe32(_buf + 4, (uint)total);
        Fdt.WriteBe32(_buf + 8, StructStart);
        Fdt.WriteBe32(_buf + 12, (uint)_structEnd);
        Fdt.WriteBe32(_buf + 16, Fdt.HeaderSize);
        Fdt.WriteBe32(_buf + 20, Fdt.Version);
        Fdt.WriteBe32(_buf + 24, Fdt.LastCompatibleVersion);
        Fdt.WriteBe32(_buf + 28, 0);
        Fdt.WriteBe32(_buf + 32, (uint)stringsSize);
        Fdt.WriteBe32(_buf + 36, (uint)structSize);
        Fdt.WriteBe64(_buf + Fdt.HeaderSize, 0);
        Fdt.WriteBe64(_buf + Fdt.HeaderSize + 8, 0);
        return total;
    }
}
