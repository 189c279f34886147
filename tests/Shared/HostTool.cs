using System.Diagnostics;

namespace KhoEmu.Tests;

/// <summary>
/// Runs host programs (gcc, ld, qemu, dtc, nm) for system tests; a missing tool makes a test inconclusive. One source,
/// compiled into each test project that needs it.
/// </summary>
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
}
