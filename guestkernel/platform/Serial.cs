

namespace KhoEmu.Guest.Platform;

/// <summary>COM1 16550 UART: polled output, the kernel console.</summary>
public static unsafe class Serial
{
    private const uint Base = 0x3F8;

    public static void Init()
    {
        Native.Outb(Base + 1, 0x00);     // no interrupts
        Native.Outb(Base + 3, 0x80);     // DLAB
        Native.Outb(Base + 0, 0x01);     // 115200 baud
        Native.Outb(Base + 1, 0x00);
        Native.Outb(Base + 3, 0x03);     // 8N1
        Native.Outb(Base + 2, 0xC7);     // FIFOs on, cleared
        Native.Outb(Base + 4, 0x03);     // DTR, RTS
    }

    public static void Put(byte b)
    {
        while ((Native.Inb(Base + 5) & 0x20) == 0) { }
        Native.Outb(Base, b);
    }
}

/// <summary>Console output helpers (no string formatting in a zero-runtime corelib: values print piecewise).</summary>
public static unsafe class Console
{
    public static void Write(char c)
    {
        if (c == '\n') Serial.Put((byte)'\r');
        Serial.Put((byte)c);
    }

    public static void Write(string s)
    {
        for (int i = 0; i < s.Length; i++) Write(s[i]);
    }

    public static void WriteLine(string s)
    {
        Write(s);
        Write('\n');
    }

    /// <summary>Writes a NUL-terminated (or <paramref name="max"/>-long) byte string.</summary>
    public static void WriteBytes(byte* s, ulong max)
    {
        for (ulong i = 0; i < max && s[i] != 0; i++) Write((char)s[i]);
    }

    public static void WriteHex(ulong v)
    {
        Write("0x");
        for (int shift = 60; shift >= 0; shift -= 4) Write("0123456789abcdef"[(int)((v >> shift) & 15)]);
    }

    public static void WriteDec(long v)
    {
        if (v < 0)
        {
            Write('-');
            WriteDec((ulong)(-(v + 1)) + 1);
            return;
        }
        WriteDec((ulong)v);
    }

    public static void WriteDec(ulong v)
    {
        char* buf = stackalloc char[24];
        int n = 0;
        do { buf[n++] = (char)('0' + (int)(v % 10)); v /= 10; } while (v != 0);
        while (n > 0) Write(buf[--n]);
    }
}
