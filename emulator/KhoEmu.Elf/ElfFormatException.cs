namespace KhoEmu.Elf;

/// <summary>Raised for malformed ELF input; the message says what is wrong and where.</summary>
public sealed class ElfFormatException(string message) : Exception(message);
