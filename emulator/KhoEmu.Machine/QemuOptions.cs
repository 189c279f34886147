using KhoEmu.Devices.Iommu;

namespace KhoEmu.Machine;

/// <summary>
/// QEMU command-line options a boot script may carry, checked against what this machine is: a q35-like PC whose
/// serial console is stdio, with intel-iommu, edu and isa-debug-exit (port 0xf4, 4 bytes) always present. Options
/// that describe this machine are accepted, so the same command line runs on both; anything else is refused with a
/// message saying why, never silently ignored.
/// </summary>
public static class QemuOptions
{
    /// <summary>The <c>-device</c> drivers the machine has built in.</summary>
    public static IReadOnlyList<string> BuiltInDevices { get; } = ["intel-iommu", "edu", "isa-debug-exit"];

    /// <summary>Checks a <c>-machine</c> value (<c>q35</c> or <c>type=q35</c>, with any further properties).</summary>
    public static void CheckMachine(string spec)
    {
        var (driver, props) = Split(spec, "type");
        bool q35 = driver is "q35" or "pc-q35" || driver.StartsWith("pc-q35-", StringComparison.Ordinal);
        if (!q35) throw new FormatException($"-machine {spec}: khoemu models a q35 PC only");
        // Machine properties (accel=, kernel-irqchip=, smm=, ...) change the machine; none is modelled, so none is ignored.
        // accel=tcg says what khoemu is (an emulator); every other value or property would be ignored, so it is refused.
        foreach (var (key, value) in props)
            if (!(key == "accel" && value == "tcg"))
                throw new FormatException($"-machine {spec}: property {key}={value} is not implemented (accepted: accel=tcg)");
    }

    /// <summary>Checks a <c>-device</c> value against the built-in devices (and isa-debug-exit's fixed port).</summary>
    public static void CheckDevice(string spec)
    {
        var (driver, props) = Split(spec, "driver");
        if (!BuiltInDevices.Contains(driver))
            throw new FormatException($"-device {spec}: '{driver}' is not modelled (built in: {string.Join(", ", BuiltInDevices)})");
        if (driver == "intel-iommu")
        {
            IommuProperties(spec, props, new IntelIommuOptions());
            return;
        }
        if (driver != "isa-debug-exit")
        {
            // The built-in edu has QEMU's defaults only; a property would ask for something else.
            foreach (var (key, value) in props)
                throw new FormatException($"-device {spec}: {driver} property {key}={value} is not implemented");
            return;
        }
        foreach (var (key, value) in props)
        {
            if (key is not ("iobase" or "iosize"))
                throw new FormatException($"-device {spec}: unknown isa-debug-exit property '{key}'");
            ulong n = ParseNumber(spec, value);
            var port = Board.Q35Layout.DebugExit.Port;
            if ((key == "iobase" && n != port.Base) || (key == "iosize" && n != (ulong)port.Count))
                throw new FormatException($"-device {spec}: isa-debug-exit is fixed at iobase=0xf4,iosize=0x04");
        }
    }

    /// <summary>
    /// The intel-iommu options of the <c>-device</c> values (the last intel-iommu wins; others are ignored here, see
    /// <see cref="CheckDevice"/>). Without one, or without properties, the defaults: queued invalidation, no interrupt
    /// remapping.
    /// </summary>
    public static IntelIommuOptions ParseIommu(IEnumerable<string> devices)
    {
        var options = new IntelIommuOptions();
        foreach (var spec in devices)
        {
            var (driver, props) = Split(spec, "driver");
            if (driver == "intel-iommu") options = IommuProperties(spec, props, new IntelIommuOptions());
        }
        return options;
    }

    /// <summary>
    /// QEMU's intel-iommu properties that describe this unit: <c>intremap=on|off|auto</c> (auto is on, as QEMU decides
    /// under TCG), <c>caching-mode=off</c> (CAP.CM = 0), <c>eim=off|auto</c> (auto is off: there is no x2APIC),
    /// <c>device-iotlb=off</c>, <c>x-buggy-eim=off</c>. Anything else would ask for a unit that is not modelled.
    /// </summary>
    private static IntelIommuOptions IommuProperties(string spec, List<(string Key, string Value)> props, IntelIommuOptions options)
    {
        foreach (var (key, value) in props)
        {
            bool? on = value switch { "on" or "true" or "yes" => true, "off" or "false" or "no" => false, _ => null };
            options = (key, value, on) switch
            {
                ("intremap", "auto", _) => options with { InterruptRemapping = true },
                ("intremap", _, bool b) => options with { InterruptRemapping = b },
                ("caching-mode" or "device-iotlb" or "x-buggy-eim", _, false) => options,
                ("eim", "auto", _) or ("eim", _, false) => options,
                ("eim", _, true) => throw new FormatException($"-device {spec}: eim=on needs x2APIC, which the CPU does not have"),
                _ => throw new FormatException($"-device {spec}: intel-iommu property {key}={value} is not implemented"),
            };
        }
        return options;
    }

    /// <summary>
    /// Resolves a <c>-cpu</c> value to a model (<see cref="KhoEmu.Cpu.CpuModels"/>). Feature flags after the name
    /// (<c>NAME,+feat</c>) are refused: each model advertises exactly what is implemented. <c>help</c> is the
    /// caller's to handle (it lists <see cref="KhoEmu.Cpu.CpuModels.Help"/>).
    /// </summary>
    public static KhoEmu.Cpu.CpuModel ParseCpu(string spec)
    {
        string name = spec.Split(',')[0];
        var model = KhoEmu.Cpu.CpuModels.Find(name)
            ?? throw new FormatException($"-cpu {spec}: unknown CPU model '{name}'; available models:\n{KhoEmu.Cpu.CpuModels.Help()}");
        if (name.Length != spec.Length)
            throw new FormatException($"-cpu {spec}: feature flags are not supported (model {model.Name} advertises what is implemented)");
        return model;
    }

    /// <summary>Checks a <c>-serial</c> value: the console is always stdio.</summary>
    public static void CheckSerial(string spec)
    {
        if (spec is not ("stdio" or "mon:stdio"))
            throw new FormatException($"-serial {spec}: the serial console is always stdio");
    }

    /// <summary>Checks a <c>-display</c> value: there is no display.</summary>
    public static void CheckDisplay(string spec)
    {
        if (spec != "none") throw new FormatException($"-display {spec}: khoemu has no display (use -display none or leave it out)");
    }

    /// <summary>
    /// Parses a <c>-rtc</c> value: <c>base=utc|localtime|YYYY-MM-DDTHH:MM:SS|YYYY-MM-DD</c> (the RTC's start), with
    /// <c>clock=vm</c> and <c>driftfix=none|slew</c> accepted (the RTC always follows virtual time and loses no ticks).
    /// <c>utc</c> and <c>localtime</c> are the host's time now, read through <paramref name="hostUtcNow"/> only when
    /// asked for; without <c>base</c> the start is <see cref="MachineConfig.DefaultRtcBase"/>.
    /// </summary>
    public static DateTime ParseRtc(string spec, Func<DateTime> hostUtcNow)
    {
        var start = MachineConfig.DefaultRtcBase;
        foreach (var part in spec.Split(','))
        {
            int eq = part.IndexOf('=');
            string key = eq < 0 ? part : part[..eq], value = eq < 0 ? "" : part[(eq + 1)..];
            switch (key)
            {
                case "base":
                    start = value switch
                    {
                        "utc" => hostUtcNow(),
                        "localtime" => hostUtcNow().ToLocalTime(),
                        _ => ParseRtcDate(spec, value),
                    };
                    break;
                case "clock":
                    if (value != "vm") throw new FormatException($"-rtc {spec}: the RTC follows virtual time (clock=vm only)");
                    break;
                case "driftfix":
                    if (value is not ("none" or "slew")) throw new FormatException($"-rtc {spec}: driftfix must be none or slew");
                    break;
                default:
                    throw new FormatException($"-rtc {spec}: unknown property '{key}' (base, clock, driftfix)");
            }
        }
        return DateTime.SpecifyKind(new DateTime(start.Year, start.Month, start.Day, start.Hour, start.Minute, start.Second), DateTimeKind.Unspecified);
    }

    private static DateTime ParseRtcDate(string spec, string text)
    {
        string[] formats = ["yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd"];
        if (DateTime.TryParseExact(text, formats, System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.None, out var t)) return t;
        throw new FormatException($"-rtc {spec}: base must be utc, localtime, YYYY-MM-DDTHH:MM:SS or YYYY-MM-DD");
    }

    /// <summary>
    /// Reads the file a QEMU option names (<c>-initrd FILE</c>); an unreadable file is a <see cref="FormatException"/>
    /// with a one-line reason, as QEMU's "could not load initial ram disk".
    /// </summary>
    public static byte[] ReadFile(string option, string path)
    {
        if (string.IsNullOrEmpty(path)) throw new FormatException($"{option}: empty file name");
        if (Directory.Exists(path)) throw new FormatException($"{option} {path}: is a directory");
        try
        {
            using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None);
            // A regular file has a size; a device or pipe reports 0 (or cannot seek) yet may never end (/dev/zero).
            long length = f.CanSeek ? f.Length : -1;
            if (length > Array.MaxLength) throw new FormatException($"{option} {path}: too large ({length} bytes; at most {Array.MaxLength})");
            if (length <= 0 && (!f.CanSeek || f.ReadByte() >= 0))
                throw new FormatException($"{option} {path}: not a regular file (a device or pipe has no size to load)");
            f.Position = 0;
            var data = new byte[length];
            f.ReadExactly(data);
            return data;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new FormatException($"{option} {path}: could not load: {e.Message}");
        }
    }

    private static (string Driver, List<(string Key, string Value)> Props) Split(string spec, string driverKey)
    {
        var parts = spec.Split(',');
        string driver = parts[0];
        var props = new List<(string, string)>();
        foreach (var p in parts.Skip(1))
        {
            int eq = p.IndexOf('=');
            props.Add(eq < 0 ? (p, "on") : (p[..eq], p[(eq + 1)..]));
        }
        if (driver.StartsWith(driverKey + "=", StringComparison.Ordinal)) driver = driver[(driverKey.Length + 1)..];
        return (driver, props);
    }

    private static ulong ParseNumber(string spec, string text)
    {
        bool hex = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase);
        if (ulong.TryParse(hex ? text[2..] : text, hex ? System.Globalization.NumberStyles.HexNumber : System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out ulong n)) return n;
        throw new FormatException($"-device {spec}: '{text}' is not a number");
    }
}
