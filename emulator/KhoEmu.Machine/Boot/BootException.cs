namespace KhoEmu.Machine.Boot;

/// <summary>Raised when a kernel image (or its initrd) cannot be booted; the one-line message says why.</summary>
public sealed class BootException(string message) : Exception(message);
