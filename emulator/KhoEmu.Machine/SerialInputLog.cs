using System.Globalization;
using System.Text;

namespace KhoEmu.Machine;

/// <summary>
/// The non-deterministic inputs of one run (docs/snapshots.md, "Record and replay"): every chunk of serial input with
/// the virtual time of the poll that handed it to the UART, the virtual time of the poll after which input ended (if
/// it did), and the host time the RTC started from when <c>-rtc base=utc|localtime</c> read it. <c>--record</c> fills
/// one while the machine runs; <c>--replay</c> feeds one back in place of stdin and the host clock. The file is text:
/// a <c>khoemu-record 1</c> line, <c>config HASH</c>, optionally <c>rtc TICKS</c>, <c>input TIME HEX</c> lines and
/// optionally <c>end TIME</c>.
/// </summary>
public sealed class SerialInputLog
{
    public const string Magic = "khoemu-record 1";
    private readonly List<(ulong Time, byte[] Bytes)> _input = [];

    /// <summary>SnapshotConfig.Hash of the machine configuration the run was recorded on.</summary>
    public ulong ConfigHash { get; set; }
    /// <summary>The RTC start the host clock gave (ticks of a DateTime), or null when the RTC base was fixed.</summary>
    public long? RtcTicks { get; set; }
    /// <summary>Virtual time of the poll that found the input stream ended; null while it has not ended.</summary>
    public ulong? EndTime { get; private set; }
    public IReadOnlyList<(ulong Time, byte[] Bytes)> Input => _input;

    public void Add(ulong time, byte[] bytes)
    {
        lock (_input) _input.Add((time, bytes));
    }

    public void End(ulong time) => EndTime = time;

    public void Write(string path)
    {
        var sb = new StringBuilder();
        sb.Append(Magic).Append('\n');
        sb.Append("config ").Append(ConfigHash.ToString("x16")).Append('\n');
        if (RtcTicks is { } t) sb.Append("rtc ").Append(t.ToString(CultureInfo.InvariantCulture)).Append('\n');
        lock (_input)
            foreach (var (time, bytes) in _input)
                sb.Append("input ").Append(time.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(Convert.ToHexString(bytes)).Append('\n');
        if (EndTime is { } e) sb.Append("end ").Append(e.ToString(CultureInfo.InvariantCulture)).Append('\n');
        File.WriteAllText(path, sb.ToString());
    }

    /// <exception cref="FormatException">The file is not a record log; the message names the line.</exception>
    public static SerialInputLog Read(string path)
    {
        string[] lines;
        try { lines = File.ReadAllLines(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new FormatException($"{path}: cannot read: {e.Message}"); }
        if (lines.Length == 0 || lines[0] != Magic) throw new FormatException($"{path}: not a khoemu record log (no '{Magic}' line)");
        var log = new SerialInputLog();
        bool config = false;
        ulong last = 0;
        for (int i = 1; i < lines.Length; i++)
        {
            var parts = lines[i].Split(' ');
            try
            {
                switch (parts[0])
                {
                    case "config" when parts.Length == 2:
                        log.ConfigHash = ulong.Parse(parts[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                        config = true;
                        break;
                    case "rtc" when parts.Length == 2:
                        log.RtcTicks = long.Parse(parts[1], CultureInfo.InvariantCulture);
                        break;
                    case "input" when parts.Length == 3 && log.EndTime is null:
                        ulong time = ulong.Parse(parts[1], CultureInfo.InvariantCulture);
                        if (time < last) throw new FormatException("times go backwards");
                        last = time;
                        log.Add(time, Convert.FromHexString(parts[2]));
                        break;
                    case "end" when parts.Length == 2 && log.EndTime is null:
                        log.End(ulong.Parse(parts[1], CultureInfo.InvariantCulture));
                        break;
                    case "" when parts.Length == 1:
                        break;
                    default:
                        throw new FormatException("unknown or misplaced entry");
                }
            }
            catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
            {
                throw new FormatException($"{path}:{i + 1}: {e.Message}: '{lines[i]}'");
            }
        }
        if (!config) throw new FormatException($"{path}: no 'config' line");
        return log;
    }
}
