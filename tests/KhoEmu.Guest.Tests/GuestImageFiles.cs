namespace KhoEmu.Guest.Tests;

internal static class GuestImageFiles
{
    /// <summary>Writes the embedded guest images to a temporary directory (for QEMU and binutils).</summary>
    public static string Export()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"khoemu-guest-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "firmware.bin"), Harness.GuestImages.Firmware);
        File.WriteAllBytes(Path.Combine(dir, "kernel.elf"), Harness.GuestImages.Kernel);
        File.WriteAllBytes(Path.Combine(dir, "init.elf"), Harness.GuestImages.Init);
        return dir;
    }
}
