using System.Diagnostics;

namespace KhoEmu.Tests;

/// <summary>Runs the `khoemu` CLI (built beside the test assembly's configuration) as a child process: a fresh process,
/// as a user would run it.</summary>
internal static class KhoemuProcess
{
    public static (int Code, string Stdout, string Stderr) Run(params string[] args)
    {
        // The configuration directory the test assembly itself was built into (artifacts/bin/PROJECT/CONFIG/).
        string config = Path.GetFileName(Path.GetDirectoryName(typeof(KhoemuProcess).Assembly.Location)) ?? "debug";
        string dll = Path.Combine(RepoPaths.Root(), "artifacts", "bin", "KhoEmu.Cli", config, "khoemu.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
