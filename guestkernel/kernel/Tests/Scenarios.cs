using KhoEmu.Kernel.Boot;
using KhoEmu.Kernel.Drivers;

using KhoEmu.Guest.Platform;
namespace KhoEmu.Kernel.Tests;

/// <summary>The command line's <c>scenario=NAME</c> selects a self-test run; results are KTAP.</summary>
public static class Scenarios
{
    /// <summary>Kernel self-test scenarios run here; every other scenario is driven by init in ring 3.</summary>
    public static bool IsKernelScenario => BootInfo.ArgumentEquals("scenario", "boot") || BootInfo.ArgumentEquals("scenario", "devices");

    public static bool Run() => BootInfo.ArgumentEquals("scenario", "devices") ? DeviceTests.Run() : BootTests.Run();
}
