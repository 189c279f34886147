using KhoEmu.Kernel.Drivers;

using KhoEmu.Guest.Platform;
namespace KhoEmu.Kernel.Tests;

/// <summary>KTAP (kselftest) output on the console: "KTAP version 1", "1..N", "ok N name", "not ok N name # reason".</summary>
public static class Ktap
{
    private static int s_number;
    public static int Failed, Passed, Skipped;

    public static void Plan(int count)
    {
        s_number = 0;
        Console.WriteLine("KTAP version 1");
        Console.Write("1..");
        Console.WriteDec((long)count);
        Console.Write('\n');
    }

    public static void Result(bool ok, string name, string? reason = null)
    {
        s_number++;
        if (ok) Passed++; else Failed++;
        Console.Write(ok ? "ok " : "not ok ");
        Console.WriteDec((long)s_number);
        Console.Write(' ');
        Console.Write(name);
        if (!ok && reason != null)
        {
            Console.Write(" # ");
            Console.Write(reason);
        }
        Console.Write('\n');
    }

    public static void Skip(string name, string reason)
    {
        s_number++;
        Skipped++;
        Console.Write("ok ");
        Console.WriteDec((long)s_number);
        Console.Write(' ');
        Console.Write(name);
        Console.Write(" # SKIP ");
        Console.WriteLine(reason);
    }

    /// <summary>A diagnostic line ("# ...").</summary>
    public static void Note(string text)
    {
        Console.Write("# ");
        Console.WriteLine(text);
    }
}
