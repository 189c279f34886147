namespace KhoEmu.Cpu.Tests;

/// <summary>
/// Random seeds derived from a test case's name that are the same in every process (string.GetHashCode is
/// randomized per process), so a differential mismatch repeats on the next run.
/// </summary>
public static class TestSeeds
{
    /// <summary>FNV-1a over <paramref name="name"/>.</summary>
    public static int For(string name)
    {
        uint h = 2166136261;
        foreach (char ch in name) h = (h ^ ch) * 16777619;
        return (int)h;
    }
}
