using KhoEmu.Core.State;

namespace KhoEmu.Devices.State;

/// <summary>The checks every device's <c>ValidateState</c> makes, each failing with a one-line
/// <see cref="SnapshotFormatException"/> that names the device and the field.</summary>
public static class StateCheck
{
    /// <summary><paramref name="array"/> is present and has <paramref name="length"/> elements.</summary>
    public static void Length<T>(string device, string field, T[]? array, int length)
    {
        if (array is null) throw new SnapshotFormatException($"{device}: {field} is missing");
        if (array.Length != length)
            throw new SnapshotFormatException($"{device}: {field} has {array.Length} elements, expected {length}");
    }

    /// <summary><paramref name="value"/> lies in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static void Range(string device, string field, long value, long min, long max)
    {
        if (value < min || value > max)
            throw new SnapshotFormatException($"{device}: {field} = {value} is outside {min}..{max}");
    }

    /// <summary>Unsigned form of <see cref="Range(string, string, long, long, long)"/>.</summary>
    public static void Range(string device, string field, ulong value, ulong min, ulong max)
    {
        if (value < min || value > max)
            throw new SnapshotFormatException($"{device}: {field} = {value} is outside {min}..{max}");
    }

    /// <summary>Fails with <paramref name="why"/> unless <paramref name="ok"/>.</summary>
    public static void That(string device, bool ok, string why)
    {
        if (!ok) throw new SnapshotFormatException($"{device}: {why}");
    }

    /// <summary>Only bits in <paramref name="allowed"/> are set.</summary>
    public static void Bits(string device, string field, ulong value, ulong allowed)
    {
        if ((value & ~allowed) != 0)
            throw new SnapshotFormatException($"{device}: {field} = 0x{value:x} has bits outside 0x{allowed:x}");
    }
}
