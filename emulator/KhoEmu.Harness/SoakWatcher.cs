using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace KhoEmu.Harness;

/// <summary>
/// Watches kexec-soak's console for the guest's per-cycle line (<c># soak: cycle K guest_free_kib F dma_records D</c>)
/// and adds the host's side: its resident set size at that moment (process-level, outside the machine, so it does not
/// touch the guest's determinism), written as a KTAP comment after the guest's line and kept in <see cref="Samples"/>.
/// </summary>
internal sealed partial class SoakWatcher(Stream inner, TextWriter? progress) : Stream
{
    private readonly List<SoakCycle> _samples = [];
    private readonly List<byte> _line = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public IReadOnlyList<SoakCycle> Samples => _samples;

    /// <summary>The last <c>cycles=N</c> in the extra command line, else <paramref name="fallback"/>.</summary>
    public static int Cycles(string cmdline, int fallback)
    {
        var m = CyclesOption().Matches(cmdline);
        return m.Count > 0 && int.TryParse(m[^1].Groups[1].Value, out int n) && n > 0 ? n : fallback;
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        inner.Write(buffer, offset, count);
        for (int i = offset; i < offset + count; i++) Take(buffer[i]);
    }

    public override void WriteByte(byte value)
    {
        inner.WriteByte(value);
        Take(value);
    }

    private void Take(byte b)
    {
        if (b != '\n')
        {
            if (_line.Count < 512) _line.Add(b);
            return;
        }
        string line = Encoding.ASCII.GetString([.. _line]).TrimEnd('\r');
        _line.Clear();
        var m = CycleLine().Match(line);
        if (!m.Success) return;
        using var self = Process.GetCurrentProcess();
        long rss = self.WorkingSet64 / 1024;
        var c = new SoakCycle(int.Parse(m.Groups[1].Value), long.Parse(m.Groups[2].Value), long.Parse(m.Groups[3].Value), rss,
            _clock.Elapsed.TotalSeconds);
        _samples.Add(c);
        inner.Write(Encoding.ASCII.GetBytes($"# soak: cycle {c.Cycle} host_rss_kib {rss}\n"));
        progress?.WriteLine($"kexec-soak: cycle {c.Cycle}: guest free {c.GuestFreeKib} KiB, {c.DmaRecords} DMA records, "
            + $"host RSS {rss / 1024.0:F1} MiB, {c.HostSeconds:F1} s");
    }

    [GeneratedRegex(@"^# soak: cycle (\d+) guest_free_kib (\d+) dma_records (\d+)")]
    private static partial Regex CycleLine();

    [GeneratedRegex(@"(?:^|\s)cycles=(\d+)(?:\s|$)")]
    private static partial Regex CyclesOption();

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => inner.Length;
    public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
    public override void Flush() => inner.Flush();
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
