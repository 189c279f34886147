namespace KhoEmu.Cli;

/// <summary>The verdict of one check of a scenario.</summary>
internal enum Verdict { Pass, Fail, Skip }

/// <summary>
/// One check of a scenario as `khoemu test` reports it (a line of text, a JUnit testcase, a JSON entry): a KTAP test of
/// the guest, or a failure found around it (a malformed report, the machine stopping, an oracle violation), which
/// <see cref="Extra"/> marks.
/// </summary>
internal sealed record CheckOutcome(string Name, Verdict Verdict, string? Message, bool Extra = false);
