namespace KhoEmu.Machine.Acpi;

/// <summary>
/// A small AML encoder (ACPI 6.5 ch. 20, "ACPI Machine Language Specification"): the named objects, data objects and
/// the few statements the DSDT needs, appended to one byte stream. Nested objects (scopes, devices, methods, packages,
/// buffers) are written by a callback so their PkgLength (§20.2.4) is known when the body is done.
/// </summary>
public sealed class Aml
{
    // §20.3 opcode table.
    private const byte ZeroOp = 0x00, OneOp = 0x01, NameOp = 0x08, BytePrefix = 0x0A, WordPrefix = 0x0B;
    private const byte DWordPrefix = 0x0C, StringPrefix = 0x0D, QWordPrefix = 0x0E, ScopeOp = 0x10, BufferOp = 0x11;
    private const byte PackageOp = 0x12, MethodOp = 0x14, ExtOpPrefix = 0x5B, DeviceOp = 0x82, ReturnOp = 0xA4;
    private const byte Local0Op = 0x60, Arg0Op = 0x68, StoreOp = 0x70, AndOp = 0x7B, OrOp = 0x7D, CreateDWordFieldOp = 0x8A;
    private const byte LNotOp = 0x92, LEqualOp = 0x93, IfOp = 0xA0, ElseOp = 0xA1;
    private const byte RootChar = 0x5C, ParentPrefixChar = 0x5E, DualNamePrefix = 0x2E, MultiNamePrefix = 0x2F;

    private readonly List<byte> _bytes = [];

    public byte[] ToArray() => [.. _bytes];
    public int Length => _bytes.Count;

    // ---- Named objects (§20.2.5.1, §20.2.5.2) ----

    /// <summary>DefScope := ScopeOp PkgLength NameString TermList.</summary>
    public Aml Scope(string path, Action<Aml> body) => Nested([ScopeOp], NameString(path), body);

    /// <summary>DefDevice := DeviceOp PkgLength NameString TermList.</summary>
    public Aml Device(string name, Action<Aml> body) => Nested([ExtOpPrefix, DeviceOp], NameString(name), body);

    /// <summary>DefMethod := MethodOp PkgLength NameString MethodFlags TermList.</summary>
    public Aml Method(string name, int argCount, bool serialized, Action<Aml> body)
    {
        if (argCount is < 0 or > 7) throw new ArgumentOutOfRangeException(nameof(argCount), "a method takes 0 to 7 arguments");
        byte flags = (byte)(argCount | (serialized ? 0x08 : 0));
        return Nested([MethodOp], [.. NameString(name), flags], body);
    }

    /// <summary>DefName := NameOp NameString DataRefObject.</summary>
    public Aml Name(string name, Action<Aml> value)
    {
        _bytes.Add(NameOp);
        _bytes.AddRange(NameString(name));
        value(this);
        return this;
    }

    public Aml Name(string name, ulong value) => Name(name, a => a.Integer(value));
    public Aml Name(string name, string value) => Name(name, a => a.String(value));

    /// <summary>DefReturn := ReturnOp ArgObject.</summary>
    public Aml Return(Action<Aml> value)
    {
        _bytes.Add(ReturnOp);
        value(this);
        return this;
    }

    // ---- Statements and expressions (§20.2.5.3, §20.2.5.4), for _OSC ----

    /// <summary>ArgN (§20.2.6.1).</summary>
    public Aml Arg(int n) => Op(n is >= 0 and <= 6 ? (byte)(Arg0Op + n) : throw new ArgumentOutOfRangeException(nameof(n)));

    /// <summary>LocalN (§20.2.6.2).</summary>
    public Aml Local(int n) => Op(n is >= 0 and <= 7 ? (byte)(Local0Op + n) : throw new ArgumentOutOfRangeException(nameof(n)));

    /// <summary>A reference to a named object.</summary>
    public Aml Ref(string path)
    {
        _bytes.AddRange(NameString(path));
        return this;
    }

    /// <summary>DefCreateDWordField := CreateDWordFieldOp SourceBuff ByteIndex NameString.</summary>
    public Aml CreateDWordField(Action<Aml> source, ulong byteIndex, string name)
    {
        _bytes.Add(CreateDWordFieldOp);
        source(this);
        Integer(byteIndex);
        return Ref(name);
    }

    /// <summary>DefIfElse := IfOp PkgLength Predicate TermList, then DefElse := ElseOp PkgLength TermList when given.</summary>
    public Aml If(Action<Aml> predicate, Action<Aml> then, Action<Aml>? otherwise = null)
    {
        var p = new Aml();
        predicate(p);
        Nested([IfOp], p.ToArray(), then);
        if (otherwise is not null) Nested([ElseOp], [], otherwise);
        return this;
    }

    public Aml LEqual(Action<Aml> a, Action<Aml> b) { _bytes.Add(LEqualOp); a(this); b(this); return this; }

    /// <summary>ASL's "!=": LNot (LEqual (a, b)).</summary>
    public Aml LNotEqual(Action<Aml> a, Action<Aml> b) { _bytes.Add(LNotOp); return LEqual(a, b); }

    /// <summary>DefStore := StoreOp TermArg SuperName.</summary>
    public Aml Store(Action<Aml> value, Action<Aml> target) { _bytes.Add(StoreOp); value(this); target(this); return this; }

    /// <summary>DefAnd := AndOp Operand Operand Target.</summary>
    public Aml And(Action<Aml> a, Action<Aml> b, Action<Aml> target) { _bytes.Add(AndOp); a(this); b(this); target(this); return this; }

    /// <summary>DefOr := OrOp Operand Operand Target.</summary>
    public Aml Or(Action<Aml> a, Action<Aml> b, Action<Aml> target) { _bytes.Add(OrOp); a(this); b(this); target(this); return this; }

    /// <summary>ASL ToUUID (§19.6.142): a 16-byte buffer, the first three groups little-endian.</summary>
    public Aml Uuid(string uuid) => Buffer(Guid.Parse(uuid).ToByteArray());

    private Aml Op(byte op)
    {
        _bytes.Add(op);
        return this;
    }

    // ---- Data objects (§20.2.3) ----

    /// <summary>The shortest integer encoding: ZeroOp, OneOp, or a byte/word/dword/qword constant.</summary>
    public Aml Integer(ulong value)
    {
        switch (value)
        {
            case 0: _bytes.Add(ZeroOp); break;
            case 1: _bytes.Add(OneOp); break;
            case <= 0xFF: _bytes.Add(BytePrefix); _bytes.Add((byte)value); break;
            case <= 0xFFFF: _bytes.Add(WordPrefix); AddLittleEndian(value, 2); break;
            case <= 0xFFFF_FFFF: _bytes.Add(DWordPrefix); AddLittleEndian(value, 4); break;
            default: _bytes.Add(QWordPrefix); AddLittleEndian(value, 8); break;
        }
        return this;
    }

    /// <summary>String := StringPrefix AsciiCharList NullChar (ASCII 0x01-0x7F only).</summary>
    public Aml String(string value)
    {
        if (value.Any(c => c is < '\x01' or > '\x7F')) throw new ArgumentException($"AML strings are 7-bit ASCII without NUL: \"{value}\"");
        _bytes.Add(StringPrefix);
        _bytes.AddRange(value.Select(c => (byte)c));
        _bytes.Add(0);
        return this;
    }

    /// <summary>A compressed EISA id as ASL's EISAID() makes it (§19.6.35), e.g. "PNP0A08".</summary>
    public Aml EisaId(string id) => Integer(EncodeEisaId(id));

    /// <summary>DefPackage := PackageOp PkgLength NumElements PackageElementList (at most 255 elements).</summary>
    public Aml Package(params Action<Aml>[] elements)
    {
        if (elements.Length > 255) throw new ArgumentException("a Package holds at most 255 elements (VarPackage is not needed here)");
        return Nested([PackageOp], [(byte)elements.Length], a =>
        {
            foreach (var e in elements) e(a);
        });
    }

    /// <summary>DefBuffer := BufferOp PkgLength BufferSize ByteList.</summary>
    public Aml Buffer(ReadOnlySpan<byte> data)
    {
        var size = new Aml().Integer((ulong)data.Length).ToArray();
        var body = data.ToArray();
        return Nested([BufferOp], size, a => a._bytes.AddRange(body));
    }

    // ---- Encodings ----

    private Aml Nested(byte[] opcode, byte[] header, Action<Aml> body)
    {
        var inner = new Aml();
        inner._bytes.AddRange(header);
        body(inner);
        _bytes.AddRange(opcode);
        _bytes.AddRange(PkgLength(inner.Length));
        _bytes.AddRange(inner._bytes);
        return this;
    }

    /// <summary>PkgLength (§20.2.4): the length of itself plus <paramref name="payload"/> bytes, in 1 to 4 bytes.</summary>
    public static byte[] PkgLength(int payload)
    {
        if (payload + 1 <= 0x3F) return [(byte)(payload + 1)];
        for (int extra = 1; extra <= 3; extra++)
        {
            int total = payload + 1 + extra;
            if (total >= 1 << (4 + 8 * extra)) continue;
            var b = new byte[1 + extra];
            b[0] = (byte)((extra << 6) | (total & 0x0F));
            for (int i = 1; i <= extra; i++) b[i] = (byte)(total >> (4 + 8 * (i - 1)));
            return b;
        }
        throw new ArgumentOutOfRangeException(nameof(payload), "AML object longer than 2^28 bytes");
    }

    /// <summary>NameString (§20.2.2): an optional root or parent prefix and dot-separated segments of up to 4 characters.</summary>
    public static byte[] NameString(string path)
    {
        var bytes = new List<byte>();
        int i = 0;
        if (path.StartsWith('\\')) { bytes.Add(RootChar); i = 1; }
        else while (i < path.Length && path[i] == '^') { bytes.Add(ParentPrefixChar); i++; }
        string rest = path[i..];
        if (rest.Length == 0)
        {
            if (bytes.Count == 0) throw new ArgumentException("empty AML name");
            bytes.Add(0);                                        // NullName
            return [.. bytes];
        }
        var segments = rest.Split('.');
        if (segments.Length == 2) bytes.Add(DualNamePrefix);
        else if (segments.Length > 2) { bytes.Add(MultiNamePrefix); bytes.Add((byte)segments.Length); }
        foreach (var s in segments) bytes.AddRange(NameSeg(s));
        return [.. bytes];
    }

    private static byte[] NameSeg(string segment)
    {
        bool valid = segment.Length is >= 1 and <= 4 && (char.IsAsciiLetterUpper(segment[0]) || segment[0] == '_')
            && segment.All(c => char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c) || c == '_');
        if (!valid) throw new ArgumentException($"\"{segment}\" is not an AML NameSeg (A-Z or _ first, then A-Z, 0-9, _; at most 4)");
        return [.. segment.PadRight(4, '_').Select(c => (byte)c)];
    }

    /// <summary>EISAID: three letters of 5 bits and four hex digits, stored byte-swapped (§19.6.35).</summary>
    public static uint EncodeEisaId(string id)
    {
        if (id.Length != 7 || !id[..3].All(char.IsAsciiLetterUpper) || !id[3..].All(char.IsAsciiHexDigit))
            throw new ArgumentException($"\"{id}\" is not an EISA id (three capital letters, four hex digits)");
        uint v = ((uint)(id[0] - 0x40) << 26) | ((uint)(id[1] - 0x40) << 21) | ((uint)(id[2] - 0x40) << 16)
            | Convert.ToUInt32(id[3..], 16);
        return System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v);
    }

    private void AddLittleEndian(ulong value, int size)
    {
        for (int i = 0; i < size; i++) _bytes.Add((byte)(value >> (8 * i)));
    }
}
