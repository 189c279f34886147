using KhoEmu.Devices.State;

namespace KhoEmu.Devices.Pci;

/// <summary>The configuration space as a value, for the functions' own state types.</summary>
public abstract partial class PciFunction
{
    protected PciConfigState SaveConfig() => new((byte[])_config.Clone(), _intx);

    /// <summary>The saved space must be this function's: every read-only byte (identity, capability list, BAR size
    /// bits) as it is here, except the INTx status bit, which the device drives.</summary>
    protected void ValidateConfig(PciConfigState? s)
    {
        StateCheck.That(Name, s is not null, "configuration space missing");
        StateCheck.Length(Name, "configuration space", s!.Config, 256);
        for (int i = 0; i < 256; i++)
        {
            byte readOnly = (byte)~_writable[i];
            if (i == StatusOffset) readOnly &= 0xF7;
            if ((s.Config[i] & readOnly) != (_config[i] & readOnly))
                StateCheck.That(Name, false, $"configuration byte 0x{i:x2} is 0x{s.Config[i]:x2}, not this function's (read-only 0x{_config[i] & readOnly:x2})");
        }
    }

    /// <summary>Loads the space and lets the bus map the BARs where it says.</summary>
    protected void LoadConfig(PciConfigState s)
    {
        s.Config.CopyTo(_config, 0);
        _intx = s.Intx;
        ConfigChanged?.Invoke();
    }
}
