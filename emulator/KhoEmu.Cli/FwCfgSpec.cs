namespace KhoEmu.Cli;

/// <summary>Parses QEMU-style fw_cfg arguments: name=NAME,file=PATH or name=NAME,string=TEXT.</summary>
public static class FwCfgSpec
{
    public static (string Name, byte[] Data) Load(string spec)
    {
        string? name = null, file = null, text = null;
        foreach (var part in spec.Split(','))
        {
            int eq = part.IndexOf('=');
            if (eq <= 0) throw new FormatException($"fw_cfg argument '{spec}': expected name=NAME,file=PATH or name=NAME,string=TEXT");
            string key = part[..eq], value = part[(eq + 1)..];
            if (key == "name") name = value;
            else if (key == "file") file = value;
            else if (key == "string") text = value;
            else throw new FormatException($"fw_cfg argument '{spec}': unknown key '{key}'");
        }
        if (string.IsNullOrEmpty(name) || (file is null) == (text is null))
            throw new FormatException($"fw_cfg argument '{spec}': name= and exactly one of file= or string= are required");
        return (name, text is not null ? System.Text.Encoding.UTF8.GetBytes(text) : KhoEmu.Machine.QemuOptions.ReadFile("-fw_cfg", file!));
    }
}
