namespace KhoEmu.Harness;

/// <summary>The KHO Linux guest's files are missing or unreadable; the message is one line saying how to prepare them.</summary>
public sealed class LinuxGuestException(string message) : Exception(message);
