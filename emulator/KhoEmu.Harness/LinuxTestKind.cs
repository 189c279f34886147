namespace KhoEmu.Harness;

/// <summary>How upstream reports a Linux selftest: a pass marker on the console of a kexec'd kernel, or kselftest KTAP.</summary>
public enum LinuxTestKind
{
    /// <summary>tools/testing/selftests/kho and the liveupdate kexec tests: stage 1, kexec, stage 2 prints the marker.</summary>
    Kexec,
    /// <summary>A kselftest-harness program: a TAP report and a "# Totals:" line; no kexec.</summary>
    Kselftest,
}
