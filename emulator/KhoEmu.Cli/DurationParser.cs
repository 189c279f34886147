using System.Globalization;

namespace KhoEmu.Cli;

/// <summary>Parses a wall-clock duration for --timeout: a number of seconds, or with an ms, s, m or h suffix
/// (as timeout(1) takes them, plus ms): 90, 1.5s, 500ms, 10m.</summary>
public static class DurationParser
{
    public static TimeSpan Parse(string option, string text)
    {
        string t = text.Trim();
        (string digits, double scale) = t.EndsWith("ms", StringComparison.OrdinalIgnoreCase) ? (t[..^2], 0.001)
            : t.EndsWith('s') || t.EndsWith('S') ? (t[..^1], 1)
            : t.EndsWith('m') || t.EndsWith('M') ? (t[..^1], 60)
            : t.EndsWith('h') || t.EndsWith('H') ? (t[..^1], 3600)
            : (t, 1.0);
        if (!double.TryParse(digits, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double v) || v <= 0 || v * scale > 1e7)
            throw new FormatException($"{option} '{text}': expected a positive duration such as 90, 1.5s, 500ms or 10m");
        return TimeSpan.FromSeconds(v * scale);
    }
}
