namespace KhoEmu.Guest.Shared;

/// <summary>Flattened device tree (DTB v17) constants and big-endian helpers, shared by the reader and the writer.</summary>
public static unsafe class Fdt
{
    public const uint Magic = 0xD00D_FEED;
    public const uint BeginNode = 1, EndNode = 2, Prop = 3, Nop = 4, End = 9;
    public const int HeaderSize = 40, Version = 17, LastCompatibleVersion = 16;

    // Errors (negative, like libfdt's): returned instead of thrown so the same code runs in the guest.
    public const int Ok = 0, ErrTruncated = -1, ErrBadMagic = -2, ErrBadVersion = -3, ErrBadStructure = -4,
        ErrBadOffset = -5, ErrNoSpace = -6, ErrNotFound = -7, ErrBadName = -8, ErrTooDeep = -9;

    public static string ErrorText(int error) => error switch
    {
        Ok => "ok",
        ErrTruncated => "blob is truncated",
        ErrBadMagic => "bad magic (not a flattened device tree)",
        ErrBadVersion => "unsupported version",
        ErrBadStructure => "malformed structure block",
        ErrBadOffset => "block offsets out of range",
        ErrNoSpace => "buffer too small",
        ErrNotFound => "not found",
        ErrBadName => "name not terminated or out of range",
        ErrTooDeep => "nodes nested too deeply",
        _ => "unknown error",
    };

    public static uint ReadBe32(byte* p) => ((uint)p[0] << 24) | ((uint)p[1] << 16) | ((uint)p[2] << 8) | p[3];

    public static void WriteBe32(byte* p, uint v)
    {
        p[0] = (byte)(v >> 24);
        p[1] = (byte)(v >> 16);
        p[2] = (byte)(v >> 8);
        p[3] = (byte)v;
    }

    public static ulong ReadBe64(byte* p) => ((ulong)ReadBe32(p) << 32) | ReadBe32(p + 4);

    public static void WriteBe64(byte* p, ulong v)
    {
        WriteBe32(p, (uint)(v >> 32));
        WriteBe32(p + 4, (uint)v);
    }

    internal static int Align4(int v) => (v + 3) & ~3;

    /// <summary>True when the NUL-terminated bytes at <paramref name="p"/> (at most <paramref name="max"/>) equal <paramref name="s"/>.</summary>
    public static bool NameEquals(byte* p, int max, string s)
    {
        if (s.Length >= max) return false;
        for (int i = 0; i < s.Length; i++)
            if (p[i] != s[i]) return false;
        return p[s.Length] == 0;
    }
}
