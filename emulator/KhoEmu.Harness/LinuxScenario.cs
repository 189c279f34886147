namespace KhoEmu.Harness;

/// <summary>
/// One of upstream Linux's KHO/LUO selftests, booted on the KHO guest (tests/linux/kho/prepare.sh): the image
/// <c>TEST.cpio</c>, the kernel options upstream's vmtest.sh passes, and the line upstream's runner looks for.
/// </summary>
public sealed record LinuxScenario(string Test, LinuxTestKind Kind, string Description, string Append, string PassMarker,
    ulong InstructionBudget)
{
    /// <summary>The name in `khoemu scenarios` and `khoemu test`: the upstream test's name with a "linux-" prefix.</summary>
    public string Name => LinuxScenarios.Prefix + Test;

    /// <summary>The initramfs prepare.sh builds for the test.</summary>
    public string ImageFile => Test + ".cpio";
}
