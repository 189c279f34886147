namespace KhoEmu.Tests;

/// <summary>Where the repository's files are, seen from a test assembly under artifacts/. One source, compiled into
/// each test project that needs it.</summary>
internal static class RepoPaths
{
    /// <summary>The directory holding KhoEmu.sln, found by walking up from the test assembly.</summary>
    public static string Root()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "KhoEmu.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root (KhoEmu.sln) not found above " + AppContext.BaseDirectory);
    }
}
