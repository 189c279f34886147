namespace KhoEmu.Harness;

/// <summary>
/// The firmware, kernel and init built from this source tree (guestkernel/, firmware/), embedded in the harness so
/// `khoemu run` and `khoemu test` work from any directory. KHOEMU_GUEST_DIR points at other builds instead.
/// </summary>
public static class GuestImages
{
    public static byte[] Firmware => Load("firmware.bin");
    /// <summary>The firmware's ELF (same code as the ROM image, with symbols for traces).</summary>
    public static byte[] FirmwareElf => Load("firmware.elf");
    public static byte[] Kernel => Load("kernel.elf");
    public static byte[] Init => Load("init.elf");

    private static byte[] Load(string name)
    {
        string? dir = Environment.GetEnvironmentVariable("KHOEMU_GUEST_DIR");
        if (!string.IsNullOrEmpty(dir)) return File.ReadAllBytes(Path.Combine(dir, name));
        using var s = typeof(GuestImages).Assembly.GetManifestResourceStream("guest/" + name)
            ?? throw new InvalidOperationException($"guest image {name} is not embedded (build the guest projects)");
        var bytes = new byte[s.Length];
        s.ReadExactly(bytes);
        return bytes;
    }
}
