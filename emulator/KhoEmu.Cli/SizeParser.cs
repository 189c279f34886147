using System.Globalization;

namespace KhoEmu.Cli;

/// <summary>Parses memory sizes the way QEMU's -m does: a bare number is MiB; K, M, G, T suffixes.</summary>
public static class SizeParser
{
    public static ulong Parse(string text)
    {
        string t = text.Trim();
        if (t.Length == 0) throw new FormatException("empty memory size");
        char last = char.ToUpperInvariant(t[^1]);
        int shift = last switch { 'K' => 10, 'M' => 20, 'G' => 30, 'T' => 40, _ => -1 };
        string digits = shift < 0 ? t : t[..^1];
        if (shift < 0) shift = 20;
        if (!ulong.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out ulong n) || n == 0)
            throw new FormatException($"invalid memory size '{text}' (examples: 512, 512M, 4G)");
        if (n > (1UL << (44 - shift))) throw new FormatException($"memory size '{text}' exceeds the 16 TiB this machine models");
        return n << shift;
    }
}
