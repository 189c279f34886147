namespace KhoEmu.Cli;

/// <summary>Passes writes to <paramref name="inner"/> and keeps a copy (the console a snapshot carries).</summary>
internal sealed class CapturingStream(Stream inner) : Stream
{
    private readonly MemoryStream _copy = new();

    public byte[] Captured => _copy.ToArray();

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _copy.Length;
    public override long Position { get => _copy.Length; set => throw new NotSupportedException(); }
    public override void Flush() => inner.Flush();
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count)
    {
        inner.Write(buffer, offset, count);
        _copy.Write(buffer, offset, count);
    }

    public override void WriteByte(byte value)
    {
        inner.WriteByte(value);
        _copy.WriteByte(value);
    }
}
