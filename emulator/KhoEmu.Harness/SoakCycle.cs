namespace KhoEmu.Harness;

/// <summary>One kexec-soak cycle as the guest printed it, with the host's resident set size when its line arrived.</summary>
public sealed record SoakCycle(int Cycle, long GuestFreeKib, long DmaRecords, long HostRssKib, double HostSeconds);
