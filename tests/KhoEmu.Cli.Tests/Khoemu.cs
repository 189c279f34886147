namespace KhoEmu.Cli.Tests;

/// <summary>Runs the built khoemu (the CLI project's output, copied next to the tests) as a child process, as a user
/// or a CI job does: its exit code, stdout and stderr.</summary>
internal static class Khoemu
{
    public static HostTool.Result Run(string workingDirectory, params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "khoemu.dll");
        return HostTool.Run("dotnet", new[] { dll }.Concat(args), workingDirectory, TimeSpan.FromMinutes(5));
    }

    /// <summary>A fresh directory for one test's files.</summary>
    public static string TempDirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), "khoemu-cli-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
