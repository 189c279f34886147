namespace KhoEmu.Cli;

/// <summary>Parses QEMU-style fw_cfg file arguments: name=NAME,file=PATH.</summary>
public static class FwCfgSpec
{
    public static (string Name, byte[] Data) Load(string spec)
    {
        string? name = null, file = null;
        foreach (var part in spec.Split(','))
        {
            int eq = part.IndexOf('=');
            if (eq <= 0) throw new FormatException($"fw_cfg argument '{spec}': expected name=NAME,file=PATH");
            string key = part[..eq], value = part[(eq + 1)..];
            if (key == "name") name = value;
            else if (key == "file") file = value;
            else throw new FormatException($"fw_cfg argument '{spec}': unknown key '{key}'");
        }
        if (string.IsNullOrEmpty(name) || string.IsNullOrEmpty(file))
            throw new FormatException($"fw_cfg argument '{spec}': both name= and file= are required");
        return (name, File.ReadAllBytes(file));
    }
}
