using System.Diagnostics;

namespace KhoEmu.Guest.Tests;

/// <summary>Runs host programs (qemu, dtc, nm) for system tests; a missing tool makes a test inconclusive.</summary>
internal static class HostTool
{
    public static bool Exists(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, name)));

    public sealed record Result(int ExitCode, byte[] Stdout, string Stderr)
    {
        public string Text => System.Text.Encoding.ASCII.GetString(Stdout);
    }

    public static Result Run(string file, IEnumerable<string> args, string workingDirectory, TimeSpan timeout, byte[]? stdin = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        if (stdin is not null) p.StandardInput.BaseStream.Write(stdin);
        p.StandardInput.Close();
        var stdout = new MemoryStream();
        var copy = p.StandardOutput.BaseStream.CopyToAsync(stdout);
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not finish within {timeout.TotalSeconds} s");
        }
        copy.Wait();
        return new Result(p.ExitCode, stdout.ToArray(), stderr.Result);
    }

    /// <summary>Writes the embedded guest images to a temporary directory (for QEMU and binutils).</summary>
    public static string ExportImages()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"khoemu-guest-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "firmware.bin"), Harness.GuestImages.Firmware);
        File.WriteAllBytes(Path.Combine(dir, "kernel.elf"), Harness.GuestImages.Kernel);
        File.WriteAllBytes(Path.Combine(dir, "init.elf"), Harness.GuestImages.Init);
        return dir;
    }
}
