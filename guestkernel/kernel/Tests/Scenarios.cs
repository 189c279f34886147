using KhoEmu.Kernel.Boot;
using KhoEmu.Kernel.Drivers;

using KhoEmu.Guest.Platform;
namespace KhoEmu.Kernel.Tests;

/// <summary>The command line's <c>scenario=NAME</c> selects a self-test run; results are KTAP.</summary>
public static class Scenarios
{
    public static bool Run()
    {
        if (BootInfo.ArgumentEquals("scenario", "boot")) return BootTests.Run();
        Ktap.Plan(1);
        Ktap.Result(false, "scenario", "unknown scenario name");
        return false;
    }
}
